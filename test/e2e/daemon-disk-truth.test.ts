/**
 * Issue 9, findings 6 and 7: /health tells the truth about a small or full disk, the drop
 * counters count exactly what was dropped, and no torn line ever leaves the spool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sendAcked } from '../../src/shared/client/daemon-client.js';
import { ids, lineFor } from '../helpers/profiles.js';
import { spawnDaemon, tempDir } from '../helpers/daemon-process.js';
import { startTestListener } from '../helpers/test-listener.js';
import { waitFor } from '../helpers/wait-for.js';

/** A real, small filesystem for the daemon's data dir; unmounted when `use` ends. */
async function withTmpfs(size: string, use: (dir: string, data: string) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', data]);
  try {
    await use(dir, data);
  } finally {
    execFileSync('umount', ['-l', data]);
  }
}

const sumDropped = (d: Record<string, number>): number => Object.values(d).reduce((a, b) => a + b, 0);

test('a disk smaller than the default spool.minFreeBytes: memory mode is degraded with named problems and counts every drop', async () => {
  await withTmpfs('64m', async (dir) => {
    const daemon = await spawnDaemon(dir, { buffer: { memoryItems: 10 } }); // default minFreeBytes: 512 MiB
    for (const id of ids(200, 'small')) assert.equal((await sendAcked(daemon.socketPath, [lineFor(id)], 5_000)).kind, 'acked');
    const { status, body } = await waitFor(async () => {
      const h = await daemon.health();
      const b = h.body.stats.buffer;
      return Number(b.memory_buffer_count) + sumDropped(h.body.stats.dropped) === 200 ? h : null;
    }, { what: 'every accepted item in memory or counted as dropped' });
    assert.equal(status, 200);
    assert.equal(body.status, 'degraded');
    assert.ok(body.problems.includes('disk_below_min_free'), body.problems.join(','));
    assert.ok(body.problems.includes('dropping_items'), body.problems.join(','));
    assert.equal(body.stats.ingest.accepted, 200);
    daemon.kill('SIGKILL');
    await daemon.exited;
  });
});

test('durable mode on a disk below spool.minFreeBytes: clients are told their items were dropped and /health is failing', async () => {
  await withTmpfs('64m', async (dir) => {
    const daemon = await spawnDaemon(dir, { buffer: { mode: 'durable' } });
    const r = await sendAcked(daemon.socketPath, ids(20, 'dur').map((id) => lineFor(id)), 5_000);
    assert.deepEqual(r, { kind: 'acked', counts: { accepted: 0, rejected: 0, dropped: 20 } });
    const { status, body } = await daemon.health();
    assert.equal(status, 503);
    assert.equal(body.status, 'failing');
    assert.ok(body.problems.includes('disk_below_min_free'));
    assert.equal(body.stats.dropped.spool_full, 20);
    daemon.kill('SIGKILL');
    await daemon.exited;
  });
});

test('durable mode filling a tiny disk: no torn line is forwarded, and delivered plus dropped is exactly what was sent', async () => {
  await withTmpfs('3m', async (dir) => {
    const listener = await startTestListener();
    await listener.down(); // the spool must fill up first
    const daemon = await spawnDaemon(dir, {
      buffer: { mode: 'durable', memoryItems: 20 },
      spool: { minFreeBytes: 0 },
      forward: { url: listener.url, batchItems: 50, flushIntervalMs: 100 },
      circuitBreaker: { retryTimeoutMs: 500 },
    });
    const all = ids(600, 'fill');
    let ackedAccepted = 0;
    let ackedDropped = 0;
    for (let i = 0; i < all.length; i += 3) {
      const r = await sendAcked(daemon.socketPath, all.slice(i, i + 3).map((id) => lineFor(id, 20_000)), 10_000);
      assert.equal(r.kind, 'acked');
      if (r.kind === 'acked') {
        ackedAccepted += r.counts.accepted;
        ackedDropped += r.counts.dropped;
      }
    }
    assert.equal(ackedAccepted + ackedDropped, 600);
    assert.ok(ackedDropped > 0, 'the tiny disk refused some items');
    await listener.up();
    const { body } = await waitFor(async () => {
      const h = await daemon.health();
      return Number(h.body.stats.buffer.disk_items) === 0 && Number(h.body.stats.buffer.memory_buffer_count) === 0 ? h : null;
    }, { timeoutMs: 30_000, what: 'the spool drained' });
    const delivered = listener.uniqueIds(); // the test listener parses every line: a torn one would throw
    const leftovers = () => ['buffer', 'quarantine'].map((d) => `${d}: ${readdirSync(join(dir, 'data', d)).join(' ')}`).join('; ');
    assert.equal(delivered.length + sumDropped(body.stats.dropped), 600, `delivered + counted drops = sent (${JSON.stringify(body.stats.dropped)}; ${leftovers()})`);
    assert.equal(new Set(listener.allIds()).size, delivered.length);
    daemon.kill('SIGTERM');
    await daemon.exited;
    await listener.close();
  });
});
