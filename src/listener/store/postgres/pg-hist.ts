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

/**
 * Bucket counts summed in a plain array while many rows of one key are added (a ranking's 24 h is
 * ~80 rows per key), instead of a Map lookup and store per pair. Every duration up to a year falls
 * below DENSE_BUCKETS (duration-buckets.ts: GAMMA 1.05 from 0.001 ms); anything beyond goes to
 * the Map as before.
 */
export const DENSE_BUCKETS = 640;

/**
 * Adds a histogram read as the text of its bigint[] (`hist::text`, e.g. `{2147483649,…}`),
 * digit by digit, without splitting it into strings and numbers first: a 24 h ranking over 1 M
 * profiles reads about a million pairs, and that parsing was most of its time (docs/benchmarks.md,
 * issue 12 second round). Pairs stay below 2^53 (bucket < 2^21), so the arithmetic is exact.
 * With `dense`, buckets below its length are summed there; call flushDense once at the end.
 */
export function addPairsText(h: Histogram, text: string, count: number, maxMs: number, dense?: Float64Array): void {
  let v = 0;
  let digits = false;
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      digits = true;
    } else {
      if (digits) {
        const b = Math.floor(v / SHIFT);
        const n = v - b * SHIFT;
        if (dense !== undefined && b < dense.length) dense[b] = (dense[b] as number) + n;
        else h.counts.set(b, (h.counts.get(b) ?? 0) + n);
      }
      v = 0;
      digits = false;
    }
  }
  h.total += count;
  if (maxMs > h.maxMs) h.maxMs = maxMs;
}

/** Moves the dense sums into the histogram. */
export function flushDense(h: Histogram, dense: Float64Array): void {
  for (let b = 0; b < dense.length; b++) {
    const n = dense[b] as number;
    if (n !== 0) h.counts.set(b, (h.counts.get(b) ?? 0) + n);
  }
}
