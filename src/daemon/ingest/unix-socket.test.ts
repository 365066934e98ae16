import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ONLY_FULL_BATCHES, type Batch, type OnSettled, type Queue, type QueueStats } from '../buffer/queue.js';
import { createDaemonMetrics } from '../telemetry/daemon-metrics.js';
import { bindUnixSocket } from '../lifecycle/listen-sockets.js';
import { createQuarantine } from '../spool/quarantine.js';
import { createIntake } from './intake.js';
import { createUnixSocketSource } from './unix-socket.js';

/**
 * A queue whose congestion the test switches (the real one is congested only while a spill is
 * being written, too briefly to test scheduling against). It records what it was offered.
 */
function switchableQueue() {
  const offered: string[] = [];
  let congested = false;
  let relief: Array<() => void> = [];
  const queue: Queue = {
    offer(item: Buffer, _source, onSettled?: OnSettled) {
      offered.push((JSON.parse(item.toString()) as { correlation_id: string }).correlation_id);
      onSettled?.('accepted');
    },
    whenDurable: (cb) => cb(true),
    take: async (): Promise<Batch | null> => null,
    ack: async () => undefined,
    release: () => undefined,
    whenReadable: () => new Promise(() => undefined),
    whenFilled: () => ({ promise: new Promise(() => undefined), cancel: () => undefined }),
    takeNowAt: () => ONLY_FULL_BATCHES,
    congested: () => congested,
    whenRelieved(cb) {
      if (!congested) cb();
      else relief.push(cb);
    },
    flushToSpool: async () => undefined,
    stats: () => ({}) as QueueStats,
    stop: async () => undefined,
  };
  return {
    queue,
    offered,
    set(value: boolean) {
      congested = value;
      if (!value) {
        const cbs = relief;
        relief = [];
        for (const cb of cbs) cb();
      }
    },
  };
}

async function source(idleTimeoutMs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'bitville-sock-'));
  const q = switchableQueue();
  const metrics = createDaemonMetrics();
  const bound = await bindUnixSocket(join(dir, 's.sock'));
  const quarantine = createQuarantine({ dir: join(dir, 'q') });
  await quarantine.start();
  const src = createUnixSocketSource({
    path: bound.path,
    shared: { handle: bound.handle, inode: bound.inode },
    maxConnections: 10_000,
    maxMessageBytes: 1 << 20,
    idleTimeoutMs,
    intake: createIntake(q.queue, metrics, quarantine, () => undefined),
    queue: q.queue,
    metrics,
  });
  await src.start();
  await bound.publish();
  return { src, q, path: bound.path, close: async () => (await src.stop(0), await bound.close()) };
}

const line = (id: string) => JSON.stringify({ correlation_id: id, project: 'p' }) + '\n';

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path, () => resolve(s));
    s.on('error', reject);
  });
}

test('while the queue is congested, idle connections are still closed, and one waiting with a message is not', async () => {
  const { src, q, path, close } = await source(300);
  q.set(true);
  const idle = await Promise.all(Array.from({ length: 300 }, () => connect(path)));
  const closedIdle = idle.map((s) => new Promise<void>((r) => s.on('close', () => r())));
  const waiter = await connect(path);
  let waiterClosed = false;
  waiter.on('close', () => (waiterClosed = true));
  waiter.write(line('w-1'));
  await Promise.all(closedIdle);
  assert.equal(src.waitingConnections(), 1);
  assert.equal(waiterClosed, false, 'a connection that waits for us is not idle');
  assert.deepEqual(q.offered, []);
  q.set(false);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(q.offered, ['w-1']);
  waiter.destroy();
  await close();
});

test('after congestion, waiting connections take turns: a flood gets one message per round like everyone else', async () => {
  const { q, path, close } = await source(10_000);
  q.set(true);
  const flood = await connect(path);
  flood.write(Array.from({ length: 100 }, (_, i) => line(`flood-${i}`)).join(''));
  await new Promise((r) => setTimeout(r, 50));
  const polite = await Promise.all([1, 2, 3].map(() => connect(path)));
  polite.forEach((s, i) => s.write(line(`polite-${i}`)));
  await new Promise((r) => setTimeout(r, 50));
  // Relief lasts for one message at a time: the queue congests again after each offer.
  const original = q.queue.offer.bind(q.queue);
  q.queue.offer = (item, source, onSettled) => {
    original(item, source, onSettled);
    setImmediate(() => q.set(false));
    q.set(true);
  };
  q.set(false);
  await new Promise((r) => setTimeout(r, 300));
  const firstFive = q.offered.slice(0, 5);
  assert.deepEqual(firstFive.slice(0, 2), ['flood-0', 'polite-0']);
  assert.ok(['polite-1', 'polite-2'].every((id) => firstFive.includes(id)), `everyone had a turn early: ${firstFive.join(', ')}`);
  assert.equal(q.offered.filter((id) => id.startsWith('flood-')).length, 100, 'the flood still gets everything through');
  flood.destroy();
  for (const s of polite) s.destroy();
  await close();
});
