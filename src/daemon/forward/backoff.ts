/**
 * The waiting maths of the forwarder (DESIGN section 4), pure so tests can pass `random` and
 * `now` instead of faking timers.
 */
export interface BackoffOptions {
  /** First retry waits up to this long. Default 500 ms. */
  baseMs: number;
  /** No retry waits longer than this. Default 60 s. */
  capMs: number;
}

export const BACKOFF_DEFAULTS: BackoffOptions = Object.freeze({ baseMs: 500, capMs: 60_000 });

/** Longest Retry-After we honour; a bogus header must not park the forwarder for days. 10 min. */
export const MAX_RETRY_AFTER_MS = 600_000;

/**
 * Full jitter (AWS architecture blog): a uniform wait in [0, min(cap, base * 2^attempt)).
 * `attempt` counts failures before this one, so the first retry uses attempt 0.
 */
export function backoffMs(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(o.capMs, o.baseMs * 2 ** Math.min(attempt, 52)); // 2**53 would lose integer precision
  return Math.floor(random() * ceiling);
}

/**
 * The circuit's open period before its n-th half-open probe (n from 1): starts at `initialMs`,
 * doubles, never more than `maxMs` (circuitBreaker.retryTimeoutMs). No jitter: there is one
 * probe per daemon, and a deterministic delay can be restored exactly after a restart.
 */
export function halfOpenDelayMs(n: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(n, 1) - 1, 52));
}

/**
 * `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 section 10.2.3); undefined when absent
 * or unparseable. Clamped to [0, MAX_RETRY_AFTER_MS].
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}
