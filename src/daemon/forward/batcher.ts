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
 * is always sent at once.
 */
export function batchReadiness(s: QueueStats, p: BatchPolicy): Readiness {
  const items = s.memoryItems + s.spoolItems;
  if (items === 0) return { kind: 'empty' };
  if (items >= p.batchItems || s.memoryBytes + s.spoolBytes >= p.batchBytes) return { kind: 'ready' };
  const left = p.flushIntervalMs - s.oldestItemAgeMs;
  if (left <= 0) return { kind: 'ready' };
  return { kind: 'wait', ms: Math.min(left, FILL_CHECK_MS) };
}
