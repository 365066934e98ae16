export interface InflateGate {
  /** True and counted when a slot is free; false means answer 503 `busy`. */
  tryEnter(): boolean;
  leave(): void;
  inFlight(): number;
}

/**
 * A cap on gzip bodies being inflated (or waiting for a parse worker) at once, over every ingest
 * route. Inflation is where a small request turns into a lot of memory; with this cap, inflated
 * memory is bounded by `max` bodies' worth of one line each, whatever the number of senders.
 * A body over the cap is refused at once with Retry-After rather than queued: the daemon keeps
 * it in its spool and retries, which costs the listener nothing meanwhile.
 */
export function createInflateGate(max: number): InflateGate {
  let n = 0;
  return {
    tryEnter() {
      if (n >= max) return false;
      n++;
      return true;
    },
    leave() {
      n = Math.max(0, n - 1);
    },
    inFlight: () => n,
  };
}
