export interface RestartBackoffOptions {
  /** Delay before the first restart after a crash. 100 ms. */
  initialMs: number;
  /** Longest delay between restarts. 10 s. */
  maxMs: number;
  /** A worker that ran this long was healthy: the next crash starts from initialMs again. 60 s. */
  healthyAfterMs: number;
}

export const RESTART_BACKOFF_DEFAULTS: RestartBackoffOptions = Object.freeze({ initialMs: 100, maxMs: 10_000, healthyAfterMs: 60_000 });

/** Delay before restarting after the `crashes`-th consecutive crash (1-based): doubling, capped. */
export function restartDelayMs(crashes: number, o: RestartBackoffOptions = RESTART_BACKOFF_DEFAULTS): number {
  if (crashes <= 1) return o.initialMs;
  return Math.min(o.maxMs, o.initialMs * 2 ** Math.min(crashes - 1, 30));
}

/** Consecutive crashes counting this one; a worker that lived healthyAfterMs resets the streak. */
export function nextCrashStreak(streak: number, workerLifetimeMs: number, o: RestartBackoffOptions = RESTART_BACKOFF_DEFAULTS): number {
  return workerLifetimeMs >= o.healthyAfterMs ? 1 : streak + 1;
}
