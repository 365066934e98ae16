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

async function queue(mode: 'memory' | 'durable', memoryItems = 1_000) {
  const dir = await mkdtemp(join(tmpdir(), 'bitville-batcher-'));
  const spool = createSpool({ dir: join(dir, 'buffer'), quarantineDir: join(dir, 'q'), maxBytes: 1 << 30, minFreeBytes: 0, whenFull: 'drop_oldest', isBusy: () => false, onDrop: () => undefined });
  await spool.recover();
  return createBufferedQueue({ mode, memoryItems, memoryBytes: 32 << 20, fsyncMs: 200, commitDelayMs: 5, spoolMaxBytes: 1 << 30, spool, busySegments: new Set(), metrics: createDaemonMetrics(), log: pino({ level: 'silent' }) });
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

test('memory mode: a full memory buffer is ready at once for a waiting forwarder, which takes it before it has to go to disk', async () => {
  const q = await queue('memory', 10);
  const sleeper = createSleeper();
  const policy = { batchItems: 500, batchBytes: 4 << 20, lingerMs: 5_000 };
  for (let round = 0; round < 3; round++) {
    const started = Date.now();
    const ready = whenBatchReady(q, policy, sleeper, () => true);
    for (let i = 0; i < 10; i++) q.offer(item(round * 10 + i), 'unix');
    assert.equal(await ready, true);
    assert.ok(Date.now() - started < 1_000, 'ready when memory is full, not after the 5 s linger');
    const batch = await q.take(500, 4 << 20);
    assert.equal(batch?.items.length, 10);
    q.offer(item(1000 + round), 'unix'); // the next item finds memory empty: nothing spills
    await q.ack(batch!);
    assert.equal((await q.take(500, 4 << 20))?.items.length, 1);
  }
  assert.equal(q.stats().overflowSegmentsWritten, 0, 'nothing went through the disk');
  await q.stop();
});

test('durable mode: a segment\'s worth of items (buffer.memoryItems) is ready at once for a waiting forwarder, not after the linger', async () => {
  const q = await queue('durable', 10);
  const sleeper = createSleeper();
  const policy = { batchItems: 500, batchBytes: 4 << 20, lingerMs: 5_000 };
  for (let round = 0; round < 2; round++) {
    const started = Date.now();
    const ready = whenBatchReady(q, policy, sleeper, () => true);
    for (let i = 0; i < 10; i++) q.offer(item(round * 10 + i), 'unix');
    assert.equal(await ready, true);
    assert.ok(Date.now() - started < 1_000, 'ready once a segment is full, not after the 5 s linger');
    const batch = await q.take(500, 4 << 20);
    assert.equal(batch?.items.length, 10, 'the whole segment, appended before it counts');
    await q.ack(batch!);
  }
  await q.stop();
});
