export interface BackoffOptions {
  /** First delay's upper bound in ms. */
  initialMs: number;
  /** Largest delay in ms. */
  maxMs: number;
}

/** Exponential backoff with full jitter (as the daemon's forwarder): attempt 0 waits up to initialMs. */
export function backoffMs(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(o.maxMs, o.initialMs * 2 ** Math.min(attempt, 30)));
}
