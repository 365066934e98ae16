import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createDaemonMetrics } from '../telemetry/daemon-metrics.js';
import { createSpool, type Spool } from '../spool/spool.js';
import { createDurableAppender, type DurableAppender } from './durable-appender.js';
import type { IngestSource, SettleOutcome } from './queue.js';
import { createSerialChain } from './serial-chain.js';

const LONG = 10_000; // a commit delay no test waits for: whatever settles sooner was hurried

interface Made {
  appender: DurableAppender;
  /** Each group's size. */
  appends: number[];
  /** fdatasyncs that ran. */
  syncs: { done: number; failNext: number };
  dir: string;
}

/** The real appender over a real spool in a temp dir, counting its appends and fdatasyncs; `syncs.failNext` makes fdatasyncs fail. */
function makeAppender(commitDelayMs: number, memoryItems = 100): Made {
  const dir = mkdtempSync(join(tmpdir(), 'bitville-appender-'));
  const real = createSpool({ dir, quarantineDir: join(dir, 'q'), maxBytes: 1 << 30, minFreeBytes: 0, whenFull: 'drop_oldest', isBusy: () => false, onDrop: () => undefined });
  const appends: number[] = [];
  const syncs = { done: 0, failNext: 0 };
  const spool: Spool = {
    ...real,
    append: (items, at, seq) => (appends.push(items.length), real.append(items, at, seq)),
    async sync() {
      if (syncs.failNext > 0) {
        syncs.failNext--;
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      }
      const synced = await real.sync();
      if (synced) syncs.done++;
      return synced;
    },
  };
  const chain = createSerialChain();
  const appender = createDurableAppender({
    spool,
    memoryItems,
    memoryBytes: 1 << 20,
    fsyncMs: 1_000,
    commitDelayMs,
    serial: (task) => chain.run(task),
    onWrite: (result) => result.kind === 'written',
    onProgress: () => undefined,
    metrics: createDaemonMetrics(),
    log: pino({ level: 'silent' }),
  });
  return { appender, appends, syncs, dir };
}

/** Runs `body` against a fresh appender and spool, then stops it and removes the spool, pass or fail. */
async function withAppender(body: (m: Made) => Promise<void>, commitDelayMs: number, memoryItems?: number): Promise<void> {
  const made = makeAppender(commitDelayMs, memoryItems);
  try {
    await body(made);
  } finally {
    made.appender.stop();
    rmSync(made.dir, { recursive: true, force: true });
  }
}

function offer(appender: DurableAppender, n: number, source: IngestSource = 'unix'): Promise<SettleOutcome> {
  return new Promise((resolve) => appender.offer({ bytes: Buffer.from(`{"correlation_id":"i${n}"}`), at: Date.now(), seq: n, source, onSettled: resolve }));
}

const durable = (appender: DurableAppender): Promise<boolean> => new Promise((resolve) => appender.whenDurable(resolve));

const within = <T>(ms: number, p: Promise<T>): Promise<T | 'timed out'> => Promise.race([p, new Promise<'timed out'>((r) => setTimeout(() => r('timed out'), ms).unref())]);

function linesOnDisk(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.includes('.ndjson'))
    .flatMap((n) => readFileSync(join(dir, n), 'utf8').trim().split('\n'));
}

test('items that arrive within the commit delay after an append share the next one', async () => {
  await withAppender(async ({ appender, appends, dir }) => {
    assert.equal(await offer(appender, 0), 'accepted', 'the first item of a quiet daemon is appended at once');
    const offered: Promise<SettleOutcome>[] = [];
    for (const n of [1, 2, 3, 4, 5]) {
      offered.push(offer(appender, n));
      await new Promise((r) => setTimeout(r, 5)); // arriving one by one, as connections do
    }
    const rest = await Promise.all(offered);
    assert.deepEqual(rest, ['accepted', 'accepted', 'accepted', 'accepted', 'accepted']);
    assert.deepEqual(appends, [1, 5], 'one write for the five items that waited');
    assert.equal(linesOnDisk(dir).length, 6);
  }, 300);
});

test('half the memory limit waiting is appended without waiting for the delay', async () => {
  await withAppender(async ({ appender, appends }) => {
    await offer(appender, 0);
    const five = Promise.all([1, 2, 3, 4, 5].map((n) => offer(appender, n)));
    assert.notEqual(await within(2_000, five), 'timed out', 'a full group goes at once');
    assert.deepEqual(appends, [1, 5]);
  }, LONG, 10);
});

test('drain appends what waits for its delay at once, so stop loses nothing and waits for nothing', async () => {
  await withAppender(async ({ appender, appends, dir }) => {
    await offer(appender, 0);
    const waiting = offer(appender, 1);
    assert.equal(await within(2_000, appender.drain()), undefined, 'drain did not wait for the commit delay');
    assert.equal(await waiting, 'accepted');
    assert.deepEqual(appends, [1, 1]);
    assert.deepEqual(linesOnDisk(dir), ['{"correlation_id":"i0"}', '{"correlation_id":"i1"}']);
  }, LONG);
});

test('commitDelayMs 0 appends at once, as before the delay existed', async () => {
  await withAppender(async ({ appender, appends }) => {
    await offer(appender, 0);
    await offer(appender, 1);
    assert.deepEqual(appends, [1, 1]);
  }, 0);
});

test('a socket item settles once appended, with no fdatasync of its own; an inbox item only after one covers it', async () => {
  await withAppender(async ({ appender, syncs, dir }) => {
    assert.equal(await offer(appender, 0), 'accepted');
    assert.equal(syncs.done, 0, 'a write-and-close sender waits for no fdatasync (the fsyncMs timer covers it)');
    assert.equal(await offer(appender, 1, 'inbox'), 'accepted');
    assert.equal(syncs.done, 1, 'the inbox deletes its file on accepted: the item must be durable first');
    assert.equal(linesOnDisk(dir).length, 2);
  }, 0);
});

test('whenDurable answers after one fdatasync that covers every item settled so far; callers that ask before it starts share it', async () => {
  await withAppender(async ({ appender, syncs }) => {
    await Promise.all([0, 1, 2].map((n) => offer(appender, n)));
    assert.equal(syncs.done, 0);
    assert.deepEqual(await Promise.all([durable(appender), durable(appender)]), [true, true]);
    assert.equal(syncs.done, 1, 'one fdatasync for both callers');
    assert.equal(await durable(appender), true, 'nothing new: answered without another fdatasync');
    assert.equal(syncs.done, 1);
  }, 0);
});

test('a failed fdatasync answers false, and the next caller gets a real one, not a stale "clean"', async () => {
  await withAppender(async ({ appender, syncs }) => {
    await offer(appender, 0);
    syncs.failNext = 1;
    assert.equal(await durable(appender), false);
    assert.equal(await durable(appender), true);
    assert.equal(syncs.done, 1, 'the bytes the failed fdatasync left unconfirmed were synced by the next');
  }, 0);
});
