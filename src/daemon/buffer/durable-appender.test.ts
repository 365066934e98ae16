import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createDaemonMetrics } from '../telemetry/daemon-metrics.js';
import { createSpool, type Spool } from '../spool/spool.js';
import { createDurableAppender, type DurableAppender } from './durable-appender.js';
import type { SettleOutcome } from './queue.js';
import { createSerialChain } from './serial-chain.js';

const LONG = 10_000; // a commit delay no test waits for: whatever settles sooner was hurried

/** The real appender over a real spool in a temp dir; `appends` records each group's size. */
function makeAppender(commitDelayMs: number, memoryItems = 100): { appender: DurableAppender; appends: number[]; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bitville-appender-'));
  const real = createSpool({ dir, quarantineDir: join(dir, 'q'), maxBytes: 1 << 30, minFreeBytes: 0, whenFull: 'drop_oldest', isBusy: () => false, onDrop: () => undefined });
  const appends: number[] = [];
  const spool: Spool = { ...real, append: (items, at, seq) => (appends.push(items.length), real.append(items, at, seq)) };
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
  return { appender, appends, dir };
}

function offer(appender: DurableAppender, n: number): Promise<SettleOutcome> {
  return new Promise((resolve) => appender.offer({ bytes: Buffer.from(`{"correlation_id":"i${n}"}`), at: Date.now(), seq: n, source: 'unix', onSettled: resolve }));
}

const within = <T>(ms: number, p: Promise<T>): Promise<T | 'timed out'> => Promise.race([p, new Promise<'timed out'>((r) => setTimeout(() => r('timed out'), ms).unref())]);

function linesOnDisk(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.includes('.ndjson'))
    .flatMap((n) => readFileSync(join(dir, n), 'utf8').trim().split('\n'));
}

test('items that arrive within the commit delay after an append share the next one', async () => {
  const { appender, appends, dir } = makeAppender(300);
  try {
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
  } finally {
    appender.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('half the memory limit waiting is appended without waiting for the delay', async () => {
  const { appender, appends, dir } = makeAppender(LONG, 10);
  try {
    await offer(appender, 0);
    const five = Promise.all([1, 2, 3, 4, 5].map((n) => offer(appender, n)));
    assert.notEqual(await within(2_000, five), 'timed out', 'a full group goes at once');
    assert.deepEqual(appends, [1, 5]);
  } finally {
    appender.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('drain appends what waits for its delay at once, so stop loses nothing and waits for nothing', async () => {
  const { appender, appends, dir } = makeAppender(LONG);
  try {
    await offer(appender, 0);
    const waiting = offer(appender, 1);
    assert.equal(await within(2_000, appender.drain()), undefined, 'drain did not wait for the commit delay');
    assert.equal(await waiting, 'accepted');
    assert.deepEqual(appends, [1, 1]);
    assert.deepEqual(linesOnDisk(dir), ['{"correlation_id":"i0"}', '{"correlation_id":"i1"}']);
  } finally {
    appender.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('commitDelayMs 0 appends at once, as before the delay existed', async () => {
  const { appender, appends, dir } = makeAppender(0);
  try {
    await offer(appender, 0);
    await offer(appender, 1);
    assert.deepEqual(appends, [1, 1]);
  } finally {
    appender.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
