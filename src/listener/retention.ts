import type { Logger } from 'pino';
import { guarded } from '../shared/telemetry/guarded.js';
import type { LimitedLog } from '../shared/telemetry/rate-limited-log.js';
import type { ListenerMetrics } from './metrics.js';
import type { Store } from './store/store.js';

export interface RetentionOptions {
  store: Store;
  /** Rows older than this many days go. */
  retentionDays: number;
  /** Between runs. Default hourly. */
  intervalMs: number;
  /** Rows per table per transaction; small so ingest waits at most a few ms. Default 2000. */
  batchRows?: number;
  metrics: ListenerMetrics;
  log: Logger;
  logLimited: LimitedLog;
  now?: () => number;
}

export interface RetentionStats {
  running: boolean;
  last_run_at: number | null;
  last_deleted: number;
  last_error: string | null;
  next_run_at: number | null;
  retention_days: number;
}

export interface Retention {
  start(): void;
  /** One full pass: deletes in small transactions, yielding to the event loop between them. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
  stats(): RetentionStats;
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function createRetention(o: RetentionOptions): Retention {
  const now = o.now ?? Date.now;
  const batchRows = o.batchRows ?? 2000;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let current: Promise<number> | null = null;
  const s: RetentionStats = { running: false, last_run_at: null, last_deleted: 0, last_error: null, next_run_at: null, retention_days: o.retentionDays };

  async function pass(): Promise<number> {
    const cutoff = now() / 1000 - o.retentionDays * 86_400;
    let total = 0;
    s.running = true;
    try {
      for (;;) {
        if (stopped) break;
        const n = await o.store.deleteOlderThan(cutoff, batchRows);
        total += n;
        o.metrics.retentionDeleted.inc(n);
        if (n === 0) break;
        await yieldToLoop();
      }
      if (total > 0) {
        for (let i = 0; i < 50 && !stopped; i++) {
          await o.store.reclaimSpace();
          await yieldToLoop();
        }
      }
      s.last_deleted = total;
      s.last_error = null;
      o.metrics.retentionRuns.inc({ result: 'ok' });
      if (total > 0) o.log.info({ deleted: total, cutoff }, 'retention removed old rows');
      return total;
    } catch (err) {
      s.last_error = err instanceof Error ? err.message : String(err);
      o.metrics.retentionRuns.inc({ result: 'error' });
      throw err;
    } finally {
      s.running = false;
      s.last_run_at = now() / 1000;
    }
  }

  function runOnce(): Promise<number> {
    if (!current) current = pass().finally(() => (current = null));
    return current;
  }

  return {
    start() {
      if (timer) return;
      const tick = guarded('retention', o.logLimited, async () => {
        s.next_run_at = (now() + o.intervalMs) / 1000;
        await runOnce();
      });
      setImmediate(tick); // first run right after start: a listener that was down catches up
      timer = setInterval(tick, o.intervalMs);
      timer.unref();
    },
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      if (current) await current.catch(() => undefined);
    },
    stats: () => ({ ...s }),
  };
}
