import type { LimitedLog } from '../shared/telemetry/rate-limited-log.js';
import { errorCode } from '../shared/telemetry/guarded.js';
import type { CollectorName, RunOutcome } from './health/agent-metrics.js';

export interface CollectorStatus {
  interval_ms: number;
  runs: number;
  last_run: number | null;
  last_outcome: RunOutcome | null;
  last_error: string | null;
}

export interface CollectorLoop {
  start(): void;
  status(): CollectorStatus;
  stop(): Promise<void>;
}

/** How fast a collector may go: the database budget for database collectors, none for the rest. */
export interface Pace {
  slowdown(): number;
  waitMs(): number;
}

export const UNPACED: Pace = { slowdown: () => 1, waitMs: () => 0 };

/**
 * Runs one collector every `intervalMs × slowdown()`, and not before the pace's wait is over: the
 * next run is planned only after the previous one finished, so a slow database never gets a
 * second query from the same collector.
 */
export function createCollectorLoop(o: {
  name: CollectorName;
  intervalMs: number;
  pace: Pace;
  run: () => Promise<{ outcome: RunOutcome; error?: string }>;
  onOutcome: (outcome: RunOutcome) => void;
  logLimited: LimitedLog;
}): CollectorLoop {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  const s: CollectorStatus = { interval_ms: o.intervalMs, runs: 0, last_run: null, last_outcome: null, last_error: null };

  function plan(delay: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      const wait = o.pace.waitMs();
      if (wait > 0) return plan(wait);
      running = tick().finally(() => {
        running = null;
        plan(o.intervalMs * o.pace.slowdown());
      });
    }, delay);
  }

  async function tick(): Promise<void> {
    try {
      const r = await o.run();
      s.runs++;
      s.last_run = Date.now() / 1000;
      s.last_outcome = r.outcome;
      s.last_error = r.error ?? null;
      o.onOutcome(r.outcome);
    } catch (err) {
      s.last_outcome = 'error';
      s.last_error = (err as Error).message;
      o.onOutcome('error');
      o.logLimited(`${o.name}:${errorCode(err)}`, { err, collector: o.name }, `${o.name} collector failed; trying again next interval`);
    }
  }

  return {
    start() {
      if (o.intervalMs > 0) plan(0);
    },
    status: () => ({ ...s, interval_ms: o.intervalMs * o.pace.slowdown() }),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (running) await running;
    },
  };
}
