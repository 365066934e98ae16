/**
 * Answer shapes of the listener's read API (DESIGN section 7) that the dashboard also reads.
 * One definition for both sides, so the server and its client cannot drift apart. Types only:
 * the dashboard's browser build imports this file too.
 */

export interface StatsRow {
  key: string;
  count: number;
  total_ms: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  max_ms: number;
  /** Endpoints only: share of requests with status >= 500 or a fatal error, 0..1. */
  error_rate?: number;
  /** Functions only: calls summed over requests, and exclusive time when the profiles carry it. */
  calls?: number;
  self_ms?: number | null;
}

export interface SeriesPoint {
  t: number;
  count: number;
  p95_ms: number | null;
}

export interface Difference {
  key: string;
  ms: number;
  baseline_ms: number;
  delta_ms: number;
}

export interface Comparison {
  endpoint: string;
  window: { from: number; to: number };
  baseline_count: number;
  /** Share of the endpoint's requests in the window that were faster, 0..100. */
  percentile_rank: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  /** duration / p50: 3 means three times slower than usual. */
  ratio_to_p50: number | null;
  /** Compared with the mean over up to BASELINE_SAMPLE earlier requests on the endpoint, largest excess first. */
  functions: Difference[];
  queries: Difference[];
  sample_size: number;
}
