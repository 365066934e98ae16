import type { Histogram } from '../duration-buckets.js';

/**
 * Histograms in PostgreSQL are bigint[] of (bucket << 32 | count) pairs: the same sparse pairs as
 * histogram-blob.ts, in a type SQL can add up (bitville_hist_add in pg-schema.ts), so concurrent
 * upserts merge on the server instead of read-modify-write in one listener.
 */
const SHIFT = 2 ** 32;
const MAX_COUNT = SHIFT - 1;

/** Array literal for a bigint[] parameter, buckets ascending. */
export function histLiteral(counts: Map<number, number>): string {
  const buckets = [...counts.keys()].sort((a, b) => a - b);
  return `{${buckets.map((b) => b * SHIFT + Math.min(counts.get(b) ?? 0, MAX_COUNT)).join(',')}}`;
}

export function addPairsToHistogram(h: Histogram, pairs: readonly number[], count: number, maxMs: number): void {
  for (const v of pairs) {
    const b = Math.floor(v / SHIFT);
    h.counts.set(b, (h.counts.get(b) ?? 0) + (v % SHIFT));
  }
  h.total += count;
  if (maxMs > h.maxMs) h.maxMs = maxMs;
}
