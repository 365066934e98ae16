import type { Queue } from '../buffer/queue.js';
import type { Sleeper } from './sleeper.js';

export interface BatchPolicy {
  /** Most items per batch. Default 500. */
  batchItems: number;
  /** Most uncompressed bytes per batch. Default 4 MiB. */
  batchBytes: number;
  /** A partial batch goes once its oldest item has waited this long. Default 200 ms. */
  lingerMs: number;
}

const COUNTS_LAG_MS = 10;

/** What is waiting to be taken (everything held, minus the segments already in flight). */
export function waitingItems(q: Queue): { items: number; bytes: number; oldestAgeMs: number } {
  const s = q.stats();
  return { items: s.memoryItems + s.spoolItems - s.inFlightItems, bytes: s.memoryBytes + s.spoolBytes - s.inFlightBytes, oldestAgeMs: s.oldestItemAgeMs };
}

/**
 * Resolves true once a batch should be taken: it is full (batchItems or batchBytes, or what the
 * queue asks to be taken at once: a full memory buffer, before it must go to disk), or its
 * oldest item has waited lingerMs (issue 10: not a fixed tick — the wait is a timer to exactly
 * that moment, raced against the queue filling up). False when the sleeper was woken to stop.
 * Backlog left by an outage is old, so it goes at once.
 */
export async function whenBatchReady(q: Queue, p: BatchPolicy, sleeper: Sleeper, running: () => boolean, abandon?: Promise<void>): Promise<boolean> {
  // `abandon` ends the wait early (running() must then say false): the forwarder's look-ahead
  // stops waiting when the batch in flight is answered.
  const until = (w: Promise<unknown>): Promise<void> => sleeper.until(abandon ? Promise.race([w, abandon]) : w);
  for (;;) {
    if (!running()) return false;
    const w = waitingItems(q);
    if (w.items <= 0) {
      await until(q.whenReadable());
      // Readable, yet nothing counted as waiting: a count that lags behind (it must not, see
      // spool-batches.ts ack). Never loop on a promise that is already resolved: that starves the
      // event loop, and with it the I/O that would bring the counts back.
      if (running() && waitingItems(q).items <= 0) await sleeper.sleep(COUNTS_LAG_MS);
      continue;
    }
    const now = q.takeNowAt();
    const items = Math.min(p.batchItems, now.items);
    const bytes = Math.min(p.batchBytes, now.bytes);
    if (w.items >= items || w.bytes >= bytes) return true;
    const leftMs = p.lingerMs - w.oldestAgeMs;
    if (leftMs <= 0) return true;
    const filled = q.whenFilled(items, bytes);
    await Promise.race([sleeper.sleep(leftMs), until(filled.promise)]);
    filled.cancel();
  }
}
