import type { Logger } from 'pino';
import type { LimitedLog } from '../../shared/telemetry/rate-limited-log.js';
import type { ExportCursorState, ExportRow, ExportStream, Store } from '../store/store.js';
import { createExportBreaker, type BreakerState } from './export-breaker.js';
import type { ExportMetrics } from './export-metrics.js';
import { fullJitterMs } from './retry-delay.js';
import type { DropReason, ExportErrorCode, SendOutcome, Sink } from './sink.js';

export type ExporterName = 'gelf' | 'otlp';

export interface ExporterSettings {
  batchRecords: number;
  batchBytes: number;
  pollIntervalMs: number;
  retry: { baseMs: number; capMs: number };
  circuitBreaker: { failureThreshold: number; retryTimeoutMs: number };
  behindRecords: number;
  behindSeconds: number;
}

export interface ExporterOptions {
  name: ExporterName;
  store: Store;
  sink: Sink;
  /** Which record streams this exporter sends (OTLP: profiles only). */
  streams: readonly ExportStream[];
  settings: ExporterSettings;
  metrics: ExportMetrics;
  log: Logger;
  logLimited: LimitedLog;
  random?: () => number;
}

export interface ExporterStats {
  name: ExporterName;
  /** ok; behind (backlog over the thresholds); failing (last batch failed or circuit not closed); standby (another listener on the same database exports). */
  state: 'ok' | 'behind' | 'failing' | 'standby';
  behind: boolean;
  circuit: BreakerState;
  backlog: number;
  sent: number;
  failed_batches: number;
  resent: number;
  dropped: Record<DropReason, number>;
  /** Records retention deleted before this exporter sent them, since it was first enabled (persisted). */
  dropped_by_retention_all_time: number;
  last_sent_at: number | null;
  last_error: { code: ExportErrorCode; message: string; at: number } | null;
  position: Record<ExportStream, string>;
}

export interface Exporter {
  /** Runs from the persisted cursor until stop(). */
  start(cursor: ExportCursorState): void;
  /** Lets the batch in flight finish (at most 2 s, then cuts it off) and saves the cursor. */
  stop(): Promise<void>;
  stats(): ExporterStats;
}

type StepResult = 'idle' | 'sent' | 'failed' | 'waited';

/** How often a listener without the exporter's lease (another one on the same database has it) asks again. */
const LEASE_RETRY_MS = 5_000;
/** How long stop() lets a batch in flight finish before cutting it off. */
const STOP_GRACE_MS = 2_000;

/**
 * One exporter: reads the store in small batches after its cursor, in store order, hands each batch to
 * its sink and moves the cursor only past what the receiver confirmed (at least once). Failed batches
 * are retried with full-jitter backoff behind a circuit breaker; a batch the receiver refuses as bad
 * data is split until the one bad record is found and dropped (counted). Runs off the ingest path:
 * ingest never waits for it, and it yields to the event loop between steps.
 */
export function createExporter(o: ExporterOptions): Exporter {
  const s = o.settings;
  const random = o.random ?? Math.random;
  const labels = { exporter: o.name };
  const breaker = createExportBreaker({
    ...s.circuitBreaker,
    onChange(state) {
      o.metrics.circuitOpen.set(labels, state === 'closed' ? 0 : 1);
      if (state === 'open') o.log.warn({ exporter: o.name, last_error: stats.last_error }, 'export circuit opened: pausing');
      if (state === 'closed') o.log.info({ exporter: o.name }, 'export circuit closed: exporting again');
    },
  });
  const stats: ExporterStats = {
    name: o.name,
    state: 'ok',
    behind: false,
    circuit: 'closed',
    backlog: 0,
    sent: 0,
    failed_batches: 0,
    resent: 0,
    dropped: { retention: 0, rejected: 0, too_large: 0 },
    dropped_by_retention_all_time: 0,
    last_sent_at: null,
    last_error: null,
    position: { profile: '0', activity: '0' },
  };
  const position: Record<ExportStream, string> = { profile: '0', activity: '0' };
  const unsaved: Record<ExportStream, boolean> = { profile: false, activity: false };
  const backlog: Record<ExportStream, number> = { profile: 0, activity: 0 };
  /** Records after the cursor that may already be at the receiver: resending them is counted. */
  const resend: Record<ExportStream, { count: number; reason: 'retry' | 'restart' }> = { profile: { count: 0, reason: 'restart' }, activity: { count: 0, reason: 'restart' } };
  let retentionSeen = 0;
  let failures = 0;
  let lastFailed = false;
  let caughtUpAt = Date.now();
  let refreshedAt = 0;
  let stopped = false;
  let running: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  let leased = false;
  let standby = false;

  function sleep(ms: number): Promise<void> {
    if (stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });
  }

  async function save(stream: ExportStream, inFlight: number): Promise<void> {
    await o.store.saveExportCursor(o.name, stream, position[stream], inFlight);
    unsaved[stream] = false;
  }

  /** Sends rows; on `rejected`, halves until the bad record is alone, then drops it. Returns the leading rows done. */
  async function deliver(rows: readonly ExportRow[]): Promise<{ done: number; retry: Extract<SendOutcome, { kind: 'retry' }> | null }> {
    const r = await breaker.run(() => o.sink.send(rows));
    if (r.kind === 'circuit_open') return { done: 0, retry: { kind: 'retry', code: 'refused', maybeDelivered: false, message: 'circuit open' } };
    if (r.kind === 'retry') return { done: 0, retry: r };
    if (r.kind === 'delivered') {
      if (r.dropped && r.dropped.count > 0) drop(r.dropped.reason, r.dropped.count, 'left out while encoding');
      return { done: rows.length, retry: null };
    }
    if (rows.length === 1) {
      drop(r.code === 'too_large' ? 'too_large' : 'rejected', 1, r.message);
      return { done: 1, retry: null };
    }
    const mid = rows.length >> 1;
    const first = await deliver(rows.slice(0, mid));
    if (first.retry) return first;
    const second = await deliver(rows.slice(mid));
    return { done: mid + second.done, retry: second.retry };
  }

  function drop(reason: DropReason, count: number, why: string): void {
    stats.dropped[reason] += count;
    o.metrics.dropped.inc({ ...labels, reason }, count);
    o.logLimited(`export-drop:${o.name}:${reason}`, { exporter: o.name, reason, count, why }, 'records dropped by the exporter');
  }

  async function step(stream: ExportStream): Promise<StepResult> {
    if (!leased) {
      leased = await o.store.exportLease(o.name);
      if (!leased) {
        standby = true;
        await sleep(LEASE_RETRY_MS);
        return 'waited';
      }
      if (standby) {
        // Another listener exported meanwhile: go on from the cursor it saved.
        const cursor = await o.store.exportCursor(o.name);
        if (cursor) for (const st of o.streams) position[st] = cursor.position[st];
        standby = false;
      }
    }
    const gate = breaker.gate();
    if (gate.kind === 'open') {
      await sleep(gate.retryInMs);
      return 'waited';
    }
    const rows = await o.store.readForExport(stream, position[stream], s.batchRecords, s.batchBytes);
    if (rows.length < s.batchRecords) caughtUpAt = Date.now();
    if (rows.length === 0) {
      if (unsaved[stream]) await save(stream, 0);
      backlog[stream] = 0;
      return 'idle';
    }
    backlog[stream] = Math.max(backlog[stream], rows.length); // at least; refresh() counts exactly
    await save(stream, rows.length); // the last confirmed position, and that these rows are now in flight
    const started = performance.now();
    const result = await deliver(rows);
    if (result.done > 0) {
      const last = rows[result.done - 1] as ExportRow;
      position[stream] = last.position;
      unsaved[stream] = true;
      const again = Math.min(resend[stream].count, result.done);
      if (again > 0) {
        stats.resent += again;
        o.metrics.resent.inc({ ...labels, reason: resend[stream].reason }, again);
        resend[stream].count -= again;
      }
      stats.sent += result.done;
      backlog[stream] = Math.max(0, backlog[stream] - result.done); // refresh() recounts exactly, at most once a second
      o.metrics.sent.inc(labels, result.done);
      stats.last_sent_at = Date.now() / 1000;
      o.metrics.lastSent.set(labels, stats.last_sent_at);
      o.metrics.batchSeconds.observe(labels, (performance.now() - started) / 1000);
    }
    if (result.retry) {
      const r = result.retry;
      failures++;
      lastFailed = true;
      stats.failed_batches++;
      o.metrics.failed.inc({ ...labels, error_code: r.code });
      stats.last_error = { code: r.code, message: r.message, at: Date.now() / 1000 };
      o.logLimited(`export-failed:${o.name}:${r.code}`, { exporter: o.name, error_code: r.code, err: r.message, records: rows.length }, 'export batch failed; will retry');
      if (r.maybeDelivered) resend[stream] = { count: Math.max(resend[stream].count, rows.length - result.done), reason: 'retry' };
      await sleep(Math.max(r.afterMs ?? 0, fullJitterMs(failures - 1, s.retry, random)));
      return 'failed';
    }
    failures = 0;
    lastFailed = false;
    return 'sent';
  }

  async function refresh(force: boolean): Promise<void> {
    // Counting a large backlog walks it: the bigger it is, the less often (1 s, up to 30 s at 290k+).
    const everyMs = Math.min(30_000, 1_000 + stats.backlog / 10);
    if (!force && Date.now() - refreshedAt < everyMs) return;
    refreshedAt = Date.now();
    for (const stream of o.streams) if (backlog[stream] !== 0 || unsaved[stream] || force) backlog[stream] = await o.store.exportBacklog(stream, position[stream]);
    const cursor = await o.store.exportCursor(o.name);
    const all = cursor ? o.streams.reduce((n, st) => n + cursor.droppedByRetention[st], 0) : 0;
    if (all > retentionSeen) {
      stats.dropped.retention += all - retentionSeen;
      o.metrics.dropped.inc({ ...labels, reason: 'retention' }, all - retentionSeen);
      o.logLimited(`export-drop:${o.name}:retention`, { exporter: o.name, count: all - retentionSeen }, 'retention deleted records this exporter had not sent');
    }
    retentionSeen = all;
    stats.dropped_by_retention_all_time = all;
  }

  async function loop(): Promise<void> {
    while (!stopped) {
      let busy = false;
      for (const stream of o.streams) {
        if (stopped) break;
        try {
          const r = await step(stream);
          if (r !== 'idle') busy = true;
          await refresh(false);
          if (r === 'failed' || r === 'waited') break;
        } catch (err) {
          // A store error (disk, locked database): the cursor did not move; try again after a pause.
          busy = true;
          o.logLimited(`export-store:${o.name}`, { exporter: o.name, err }, 'exporter could not read or save its cursor; retrying');
          await sleep(Math.max(s.pollIntervalMs, 1_000));
        }
      }
      if (!busy) await sleep(s.pollIntervalMs);
    }
    for (const stream of o.streams) if (unsaved[stream]) await save(stream, 0).catch((err: unknown) => o.log.error({ err, exporter: o.name }, 'could not save the export cursor at stop'));
  }

  return {
    start(cursor) {
      if (running) return;
      retentionSeen = o.streams.reduce((n, st) => n + cursor.droppedByRetention[st], 0);
      stats.dropped_by_retention_all_time = retentionSeen;
      for (const stream of o.streams) {
        position[stream] = cursor.position[stream];
        resend[stream] = { count: cursor.inFlight[stream], reason: 'restart' };
        backlog[stream] = 1; // unknown until the first refresh
      }
      o.metrics.circuitOpen.set(labels, 0);
      running = refresh(true)
        .catch(() => undefined)
        .then(loop)
        .catch((err: unknown) => o.log.error({ err, exporter: o.name }, 'exporter stopped by an unexpected error'));
    },
    async stop() {
      stopped = true;
      wake?.();
      // A batch on its way gets a moment to be confirmed; then the connection is cut and, as the
      // cursor did not move, the batch goes again after the restart (counted as resent).
      if (running) await Promise.race([running, new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref())]);
      await o.sink.close();
      await running;
    },
    stats() {
      const total = o.streams.reduce((n, st) => n + backlog[st], 0);
      o.metrics.backlog.set(labels, total);
      stats.backlog = total;
      stats.circuit = breaker.state();
      stats.behind = total >= s.behindRecords || (total > 0 && Date.now() - caughtUpAt > s.behindSeconds * 1000);
      stats.state = standby ? 'standby' : lastFailed || stats.circuit !== 'closed' ? 'failing' : stats.behind ? 'behind' : 'ok';
      stats.position = { ...position };
      return { ...stats, dropped: { ...stats.dropped } };
    },
  };
}
