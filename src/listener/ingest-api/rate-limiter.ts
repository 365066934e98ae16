export type RateDecision = { kind: 'allowed' } | { kind: 'limited'; retryAfterS: number };

export interface RateLimiterOptions {
  /** Sustained lines per second per key. */
  linesPerSecond: number;
  /** Bucket size in lines. */
  burstLines: number;
}

export interface RateLimiter {
  /** Charges `cost` lines to `key`. */
  take(key: string, cost: number): RateDecision;
}

/**
 * A token bucket per token. A request is let in while the bucket holds at least one line and may take it into
 * debt, so one batch larger than the burst still gets through once; the next waits until the debt
 * is paid back, and Retry-After says how long that is.
 */
export function createRateLimiter(options: RateLimiterOptions, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key, cost) {
      const t = now();
      const b = buckets.get(key) ?? { tokens: options.burstLines, at: t };
      b.tokens = Math.min(options.burstLines, b.tokens + ((t - b.at) / 1000) * options.linesPerSecond);
      b.at = t;
      buckets.set(key, b);
      if (b.tokens < 1) return { kind: 'limited', retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / options.linesPerSecond)) };
      b.tokens -= cost;
      return { kind: 'allowed' };
    },
  };
}
