export interface DbBudgetOptions {
  /** safety.maxDbTimePerSecondMs */
  maxMsPerSecond: number;
  /** Averaging window. 10 s. */
  windowMs?: number;
  /**
   * The most one query is charged: safety.statementTimeoutMs, since statement_timeout ends any
   * statement on the server by then. A query that failed on the client side (a hung network, a
   * server going down) may take longer without the server spending that time on it, and must not
   * hold the collectors back for minutes after an outage. Unbounded when absent.
   */
  maxQueryMs?: number;
  now?: () => number;
}

export interface DbBudget {
  /** Adds one query's wall time (sent → answered: an upper bound of the database time it used). */
  record(wallMs: number): void;
  /** Milliseconds of database time per second over the window. */
  msPerSecond(): number;
  /**
   * How much slower than configured the collectors run: 1 within budget, doubled each time the
   * window is over budget (up to 32), halved again once usage is under half of it.
   */
  slowdown(): number;
  /**
   * Milliseconds a collector whose turn has come must still wait: 0 while the agent has credit.
   * Credit accrues at maxMsPerSecond (at most one second's worth is saved up) and every query's
   * time is charged to it, so the limit holds even where 32x slower is not slow enough.
   */
  waitMs(): number;
}

const MAX_SLOWDOWN = 32;

/**
 * The agent's own database time (issue 13: it must never harm the database). Queries are timed
 * per second in a ring of buckets; each new second re-evaluates the slowdown factor the scheduler
 * multiplies every interval by. The factor is capped and reacts once a second, so a credit (a
 * token bucket of database milliseconds) backs it: a collector in debt waits until it is paid.
 */
export function createDbBudget(o: DbBudgetOptions): DbBudget {
  const now = o.now ?? Date.now;
  const seconds = Math.max(1, Math.round((o.windowMs ?? 10_000) / 1000));
  const buckets = new Float64Array(seconds);
  let current = Math.floor(now() / 1000);
  const started = current;
  let factor = 1;
  const creditCap = o.maxMsPerSecond;
  let credit = creditCap;
  let creditAt = now();

  function accrue(): void {
    const t = now();
    credit = Math.min(creditCap, credit + ((t - creditAt) / 1000) * o.maxMsPerSecond);
    creditAt = t;
  }

  function advance(): void {
    const sec = Math.floor(now() / 1000);
    if (sec === current) return;
    const steps = Math.min(seconds, sec - current);
    for (let i = 1; i <= steps; i++) buckets[(current + i) % seconds] = 0;
    current = sec;
    const used = average();
    if (used > o.maxMsPerSecond) factor = Math.min(MAX_SLOWDOWN, factor * 2);
    else if (used < o.maxMsPerSecond / 2) factor = Math.max(1, factor / 2);
  }

  function average(): number {
    let sum = 0;
    for (let i = 0; i < seconds; i++) if (i !== current % seconds) sum += buckets[i] ?? 0;
    // Only whole seconds count, and only as many as the agent has been running.
    return sum / Math.max(1, Math.min(seconds - 1, current - started));
  }

  return {
    record(wallMs) {
      const ms = Math.min(wallMs, o.maxQueryMs ?? Number.POSITIVE_INFINITY);
      accrue();
      credit -= ms;
      advance();
      const i = current % seconds;
      buckets[i] = (buckets[i] ?? 0) + ms;
    },
    msPerSecond() {
      advance();
      return average();
    },
    slowdown() {
      advance();
      return factor;
    },
    waitMs() {
      accrue();
      return credit >= 0 ? 0 : Math.ceil((-credit / o.maxMsPerSecond) * 1000);
    },
  };
}
