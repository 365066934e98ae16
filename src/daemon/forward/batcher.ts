import type { QueueStats } from '../buffer/queue.js';

export interface BatchPolicy {
  /** Most items per batch. Default 500. */
  batchItems: number;
  /** Most uncompressed bytes per batch. Default 4 MiB. */
  batchBytes: number;
  /** Send a partial batch this long after its first item. Default 1000 ms. */
  flushIntervalMs: number;
}

/** How often a partial batch is re-checked for having filled up before its interval ends. */
export const FILL_CHECK_MS = 50;

export type Readiness = { kind: 'ready' } | { kind: 'wait'; ms: number } | { kind: 'empty' };

/**
 * DESIGN section 4: a batch goes when it holds batchItems or batchBytes, or flushIntervalMs has
 * passed since its first item. Everything waiting (spool and memory) counts, because take() hands
 * out the oldest items first whichever store holds them; backlog left by an outage is old, so it
 * is always sent at once. `observedAgeMs` is how long the forwarder itself has seen items
 * waiting: a lower bound on their age that also covers durable mode's open segment, whose age
 * the queue does not report.
 */
export function batchReadiness(s: QueueStats, p: BatchPolicy, observedAgeMs = 0): Readiness {
  const items = s.memoryItems + s.spoolItems;
  if (items === 0) return { kind: 'empty' };
  if (items >= p.batchItems || s.memoryBytes + s.spoolBytes >= p.batchBytes) return { kind: 'ready' };
  const left = p.flushIntervalMs - Math.max(s.oldestItemAgeMs, observedAgeMs);
  if (left <= 0) return { kind: 'ready' };
  return { kind: 'wait', ms: Math.min(left, FILL_CHECK_MS) };
}
