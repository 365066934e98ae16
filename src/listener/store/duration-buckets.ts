/**
 * Durations are counted in logarithmic buckets (the DDSketch idea): bucket b holds values in
 * (GAMMA^(b-1-OFFSET), GAMMA^(b-OFFSET)], and the value reported for it is within ±2.5 % of every
 * value inside. Percentiles over any window are then sums of bucket counts, which SQLite reads
 * from small rollup rows instead of sorting millions of durations.
 */
export const GAMMA = 1.05;
const LOG_GAMMA = Math.log(GAMMA);
/** Bucket 1 starts at 0.001 ms; bucket 0 holds zero and anything smaller. */
const OFFSET = Math.ceil(-Math.log(0.001) / LOG_GAMMA);

export function bucketOf(ms: number): number {
  if (!(ms > 0.001)) return 0;
  return Math.ceil(Math.log(ms) / LOG_GAMMA) + OFFSET;
}

/** The value that represents bucket b: relative error at most (GAMMA-1)/(GAMMA+1). */
export function bucketValue(bucket: number): number {
  if (bucket <= 0) return 0;
  return (2 * GAMMA ** (bucket - OFFSET)) / (GAMMA + 1);
}

export interface Histogram {
  /** bucket -> count */
  counts: Map<number, number>;
  total: number;
  /** Exact maximum; percentiles never exceed it. */
  maxMs: number;
}

export function emptyHistogram(): Histogram {
  return { counts: new Map(), total: 0, maxMs: 0 };
}

export function addToHistogram(h: Histogram, bucket: number, count: number, maxMs: number): void {
  h.counts.set(bucket, (h.counts.get(bucket) ?? 0) + count);
  h.total += count;
  if (maxMs > h.maxMs) h.maxMs = maxMs;
}

/** Nearest-rank percentile, q in (0, 1]; null for an empty histogram. */
export function percentile(h: Histogram, q: number): number | null {
  if (h.total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * h.total));
  const buckets = [...h.counts.keys()].sort((a, b) => a - b);
  let seen = 0;
  for (const b of buckets) {
    seen += h.counts.get(b) ?? 0;
    if (seen >= rank) return Math.min(round(bucketValue(b)), h.maxMs);
  }
  return h.maxMs;
}

/** Share of samples faster than `ms` (samples in the same bucket count half), 0..100. */
export function percentileRank(h: Histogram, ms: number): number | null {
  if (h.total === 0) return null;
  const own = bucketOf(ms);
  let below = 0;
  for (const [b, c] of h.counts) {
    if (b < own) below += c;
    else if (b === own) below += c / 2;
  }
  return round((below / h.total) * 100);
}

export function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
