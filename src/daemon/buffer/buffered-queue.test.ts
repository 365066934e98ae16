import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createDaemonMetrics } from '../telemetry/daemon-metrics.js';
import { createSpool } from '../spool/spool.js';
import { createBufferedQueue } from './buffered-queue.js';
import type { Batch, Queue } from './queue.js';

/** The real queue over a real spool in a temp dir; only the sizes are small. */
async function makeQueue(mode: 'memory' | 'durable', memoryItems = 4): Promise<{ queue: Queue; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bitville-queue-'));
  const busy = new Set<string>();
  const spool = createSpool({
    dir: join(dir, 'buffer'),
    quarantineDir: join(dir, 'quarantine'),
    maxBytes: 1 << 30,
    minFreeBytes: 0,
    whenFull: 'drop_oldest',
    isBusy: (n) => busy.has(n),
    onDrop: () => undefined,
  });
  await spool.recover();
  const queue = createBufferedQueue({
    mode,
    memoryItems,
    memoryBytes: 1 << 20,
    fsyncMs: 50,
    commitDelayMs: 5,
    spoolMaxBytes: 1 << 30,
    spool,
    busySegments: busy,
    metrics: createDaemonMetrics(),
    log: pino({ level: 'silent' }),
  });
  return { queue, dir };
}

const item = (n: number) => Buffer.from(JSON.stringify({ correlation_id: `i${n}`, project: 'p' }));
const names = (b: Batch | null) => (b ? b.items.map((i) => (JSON.parse(i.toString()) as { correlation_id: string }).correlation_id) : []);
const segments = (dir: string) => readdirSync(join(dir, 'buffer')).filter((n) => n.endsWith('.ndjson'));

async function settle(queue: Queue): Promise<void> {
  await queue.take(0, 0).then((b) => b && queue.release(b)); // awaits pending spool writes, takes nothing
}

test('take returns the oldest items first: spool segments, then memory', async () => {
  const { queue, dir } = await makeQueue('memory', 4);
  for (let i = 0; i < 10; i++) {
    queue.offer(item(i), 'unix');
    if (i % 4 === 3) await settle(queue); // as ingest does: it pauses while a spill is written
  }
  await settle(queue); // i8 made the second full buffer (i4..i7) go to disk
  assert.equal(segments(dir).length, 2, 'two full memory buffers overflowed to the spool');
  const first = await queue.take(100, 1 << 20);
  assert.deepEqual(names(first), ['i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7'], 'both segments in one batch');
  await queue.ack(first as Batch);
  assert.deepEqual(segments(dir), [], 'ack deletes the segments');
  const second = await queue.take(100, 1 << 20);
  assert.deepEqual(names(second), ['i8', 'i9']);
  await queue.ack(second as Batch);
  assert.equal(await queue.take(100, 1 << 20), null);
  assert.equal(queue.stats().memoryItems, 0);
});

test('a batch is limited by items and bytes, but always holds at least one item', async () => {
  const { queue } = await makeQueue('memory', 100);
  for (let i = 0; i < 5; i++) queue.offer(item(i), 'unix');
  assert.deepEqual(names(await queue.take(2, 1 << 20)), ['i0', 'i1']);
  assert.deepEqual(names(await queue.take(100, 1)), ['i2'], 'one item even when it alone is over maxBytes');
});

test('a released batch comes back first, and keeps its place when memory then overflows to disk', async () => {
  const { queue, dir } = await makeQueue('memory', 4);
  for (let i = 0; i < 3; i++) queue.offer(item(i), 'unix');
  const inFlight = await queue.take(100, 1 << 20);
  assert.deepEqual(names(inFlight), ['i0', 'i1', 'i2']);
  for (let i = 3; i < 7; i++) queue.offer(item(i), 'unix'); // arrives while the batch is in flight: overflows
  await settle(queue);
  queue.release(inFlight as Batch); // the listener failed: the oldest data must be sent first again
  await settle(queue);
  const all: string[] = [];
  for (let b = await queue.take(100, 1 << 20); b; b = await queue.take(100, 1 << 20)) {
    all.push(...names(b));
    await queue.ack(b);
  }
  assert.deepEqual(all, ['i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'i6']);
  assert.deepEqual(segments(dir), []);
});

test('a segment taken by the forwarder is not handed out twice until it is released', async () => {
  const { queue } = await makeQueue('memory', 2);
  for (let i = 0; i < 4; i++) queue.offer(item(i), 'unix');
  await settle(queue);
  const a = await queue.take(2, 1 << 20);
  const b = await queue.take(2, 1 << 20);
  assert.deepEqual(names(a), ['i0', 'i1']);
  assert.deepEqual(names(b), ['i2', 'i3']);
  queue.release(a as Batch);
  assert.deepEqual(names(await queue.take(2, 1 << 20)), ['i0', 'i1']);
});

test('durable mode: offered items are taken from a sealed segment, and ack deletes it', async () => {
  const { queue, dir } = await makeQueue('durable', 100);
  let safe = 0;
  for (let i = 0; i < 5; i++) queue.offer(item(i), 'unix', () => safe++);
  await queue.whenReadable();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(safe, 5, 'onSafe runs once the items are appended to the open segment');
  const batch = await queue.take(100, 1 << 20);
  assert.deepEqual(names(batch), ['i0', 'i1', 'i2', 'i3', 'i4']);
  assert.equal(segments(dir).length, 1, 'take sealed the open segment');
  await queue.ack(batch as Batch);
  assert.deepEqual(readdirSync(join(dir, 'buffer')), []);
});

test('stop writes memory and unacknowledged memory batches to disk, in arrival order', async () => {
  const { queue, dir } = await makeQueue('memory', 4);
  for (let i = 0; i < 3; i++) queue.offer(item(i), 'unix');
  await queue.take(2, 1 << 20); // i0, i1 in flight, never answered
  for (let i = 3; i < 7; i++) queue.offer(item(i), 'unix'); // i2..i5 overflow to disk meanwhile
  await settle(queue);
  queue.offer(item(7), 'unix');
  await queue.stop();
  const ids = segments(dir)
    .sort()
    .flatMap((n) => readFileSync(join(dir, 'buffer', n), 'utf8').trim().split('\n'))
    .map((l) => (JSON.parse(l) as { correlation_id: string }).correlation_id);
  assert.deepEqual(ids, ['i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7']);
});

test('while an ack deletes its segments, what waits never looks smaller than it is (a second lane must not spin)', async () => {
  const { queue, dir } = await makeQueue('memory', 4);
  for (let i = 0; i < 9; i++) {
    queue.offer(item(i), 'unix');
    if (i % 4 === 3) await settle(queue);
  }
  await settle(queue); // i0..i3 and i4..i7 on disk, i8 in memory
  assert.equal(segments(dir).length, 2);
  const batch = (await queue.take(100, 1 << 20)) as Batch;
  assert.equal(batch.items.length, 8, 'both segments in one batch');
  const waiting = (): number => {
    const s = queue.stats();
    return s.memoryItems + s.spoolItems - s.inFlightItems;
  };
  assert.equal(waiting(), 1);
  let done = false;
  let least = waiting();
  const acked = queue.ack(batch).then(() => (done = true));
  while (!done) {
    least = Math.min(least, waiting());
    await new Promise((r) => setImmediate(r)); // between the unlinks' I/O callbacks
  }
  await acked;
  assert.equal(least, 1, 'i8 was counted as waiting throughout the deletes');
  assert.deepEqual(segments(dir), []);
  assert.deepEqual(names(await queue.take(100, 1 << 20)), ['i8']);
});
