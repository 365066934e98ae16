import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createBufferedQueue } from '../buffer/buffered-queue.js';
import { createDaemonMetrics } from '../telemetry/daemon-metrics.js';
import { createSpool } from '../spool/spool.js';
import { whenBatchReady } from './batcher.js';
import { createSleeper } from './sleeper.js';

async function queue(mode: 'memory' | 'durable') {
  const dir = await mkdtemp(join(tmpdir(), 'bitville-batcher-'));
  const spool = createSpool({ dir: join(dir, 'buffer'), quarantineDir: join(dir, 'q'), maxBytes: 1 << 30, minFreeBytes: 0, whenFull: 'drop_oldest', isBusy: () => false, onDrop: () => undefined });
  await spool.recover();
  return createBufferedQueue({ mode, memoryItems: 1_000, memoryBytes: 32 << 20, fsyncMs: 200, spoolMaxBytes: 1 << 30, spool, busySegments: new Set(), metrics: createDaemonMetrics(), log: pino({ level: 'silent' }) });
}

const item = (i: number) => Buffer.from(JSON.stringify({ correlation_id: `b-${i}`, project: 'p' }));

// The forwarder's timers are unref'd (a daemon's sockets keep it alive); this test has no sockets.
const keepAlive = setInterval(() => undefined, 1_000);
after(() => clearInterval(keepAlive));

for (const mode of ['memory', 'durable'] as const) {
  test(`${mode} mode: a partial batch is ready lingerMs after its oldest item, not on a tick; a full one at once`, async () => {
    const q = await queue(mode);
    const sleeper = createSleeper();
    const policy = { batchItems: 50, batchBytes: 1 << 20, lingerMs: 300 };
    const started = Date.now();
    q.offer(item(0), 'unix');
    assert.equal(await whenBatchReady(q, policy, sleeper, () => true), true);
    const waited = Date.now() - started;
    assert.ok(waited >= 280 && waited < 300 + 250, `a lone item waited ${waited} ms for a 300 ms linger`);
    assert.equal((await q.take(50, 1 << 20))?.items.length, 1);

    const fullStarted = Date.now();
    const ready = whenBatchReady(q, policy, sleeper, () => true);
    for (let i = 1; i <= 50; i++) q.offer(item(i), 'unix');
    assert.equal(await ready, true);
    assert.ok(Date.now() - fullStarted < 250, 'a full batch does not wait for the linger');
    await q.stop();
  });
}

test('stopping wakes a waiting batcher, which answers false', async () => {
  const q = await queue('memory');
  const sleeper = createSleeper();
  let running = true;
  const ready = whenBatchReady(q, { batchItems: 50, batchBytes: 1 << 20, lingerMs: 60_000 }, sleeper, () => running);
  running = false;
  sleeper.wakeAll();
  assert.equal(await ready, false);
  await q.stop();
});
