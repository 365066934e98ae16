import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ids, lineFor } from '../helpers/profiles.js';
import { spawnDaemon, tempDir } from '../helpers/daemon-process.js';
import { sendEachOnItsOwnConnection } from '../helpers/socket-client.js';
import { spoolIds } from '../helpers/spool-files.js';
import { waitFor } from '../helpers/wait-for.js';

const LINE_BYTES = Buffer.byteLength(lineFor('q-000000', 1000));

test('drop_oldest with a tiny spool quota keeps the newest data and counts every drop', async () => {
  const daemon = await spawnDaemon(tempDir(), {
    buffer: { memoryItems: 10 },
    spool: { maxBytes: 40 * LINE_BYTES, minFreeBytes: 0, whenFull: 'drop_oldest' },
  });
  const all = ids(300, 'q');
  await sendEachOnItsOwnConnection(daemon.socketPath, all.map((id) => lineFor(id, 1000)), 1);
  await waitFor(async () => (await daemon.accepted()) === 300, { what: '300 accepted' });
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  const kept = spoolIds(daemon.dataDir);
  assert.ok(kept.length <= 40 && kept.length >= 30, `kept ${kept.length}`);
  assert.deepEqual(kept, all.slice(all.length - kept.length), 'what is kept is the newest, in order');

  const again = await spawnDaemon(daemon.dir, { buffer: { memoryItems: 10 }, spool: { maxBytes: 40 * LINE_BYTES, minFreeBytes: 0 } });
  const h = await again.health();
  assert.equal(h.body.stats.ingest.recovered_from_spool, kept.length);
  again.kill('SIGTERM');
  await again.exited;
});

test('drop_newest keeps the oldest data and counts the refused items', async () => {
  const daemon = await spawnDaemon(tempDir(), {
    buffer: { memoryItems: 10 },
    spool: { maxBytes: 40 * LINE_BYTES, minFreeBytes: 0, whenFull: 'drop_newest' },
  });
  const all = ids(300, 'n');
  await sendEachOnItsOwnConnection(daemon.socketPath, all.map((id) => lineFor(id, 1000)), 1);
  await waitFor(async () => (await daemon.accepted()) === 300, { what: '300 accepted' });
  const { body } = await waitFor(async () => {
    const h = await daemon.health();
    return (h.body.stats.dropped.spool_full ?? 0) >= 250 ? h : null;
  }, { what: 'drops counted' });
  assert.ok(body.stats.dropped.spool_full);
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  const kept = spoolIds(daemon.dataDir);
  assert.deepEqual(kept, all.slice(0, kept.length), 'what is kept is the oldest, in order');
  assert.equal(kept.length + (body.stats.dropped.spool_full ?? 0) + Number(body.stats.buffer.memory_buffer_count) >= 300, true);
});

test('a full disk: the oldest segments make room, every drop is counted, and clients never notice', async () => {
  const dir = tempDir();
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', data]); // a real, tiny filesystem
  try {
    const daemon = await spawnDaemon(dir, { buffer: { memoryItems: 10 }, spool: { minFreeBytes: 0 } });
    const all = ids(1_000, 'full');
    const result = await sendEachOnItsOwnConnection(daemon.socketPath, all.map((id) => lineFor(id, 1000)), 4);
    assert.deepEqual(result.failures, {}, 'clients never notice the full disk');
    await waitFor(async () => (await daemon.accepted()) === 1_000, { what: '1,000 accepted' });
    const accounted = (h: Awaited<ReturnType<typeof daemon.health>>) =>
      Number(h.body.stats.buffer.disk_items) + Number(h.body.stats.buffer.memory_buffer_count) + (h.body.stats.dropped.spool_full ?? 0) + (h.body.stats.dropped.disk_error ?? 0);
    // Once the last spill has finished, every accepted item is on disk, in memory, or counted as dropped.
    const { status, body } = await waitFor(async () => {
      const h = await daemon.health();
      return accounted(h) === 1_000 ? h : null;
    }, { what: 'every accepted item accounted for' });
    assert.ok((body.stats.dropped.spool_full ?? 0) > 0, 'the tiny disk forced drops');
    // A disk at 100 % may fail the writability probe (503): operators must see it. Either way
    // ENOSPC is handled as a full spool under the drop_oldest policy, not as an I/O error.
    assert.ok(status === 200 || body.problems.includes('spool_not_writable'));
    assert.equal(body.stats.dropped.disk_error, undefined);
    daemon.kill('SIGKILL');
    await daemon.exited;
  } finally {
    execFileSync('umount', ['-l', data]);
  }
});
