import type { Socket as UdpSocket } from 'node:dgram';
import { resolve } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import type { DaemonConfig } from '../shared/config/daemon-config.js';
import { forwardUrls } from '../shared/config/forward-settings.js';
import type { Logger } from '../shared/telemetry/logger.js';
import { rateLimitedLog } from '../shared/telemetry/rate-limited-log.js';
import { createBufferedQueue } from './buffer/buffered-queue.js';
import type { Queue } from './buffer/queue.js';
import { healthReport, type HealthStatus } from './health/health-report.js';
import { createDaemonMetrics, type DaemonMetrics } from './telemetry/daemon-metrics.js';
import { createForwarder, type Forwarder } from './forward/forwarder.js';
import { createInboxSource } from './ingest/inbox.js';
import { createIntake, type Intake } from './ingest/intake.js';
import { createUdpSource } from './ingest/udp.js';
import { createUnixSocketSource } from './ingest/unix-socket.js';
import { warmUpIngest } from './ingest/warm-up.js';
import { createHandoverQueue } from './buffer/handover-queue.js';
import { createQuarantine } from './spool/quarantine.js';
import { createSpool } from './spool/spool.js';
import { ensureDaemonDirs } from './daemon-paths.js';

/** The sockets the supervisor owns and passes to each worker (DESIGN section 5). */
export interface SharedSockets {
  unix: { handle: object; inode: number };
  udp: UdpSocket | null;
}

export interface RunningWorker {
  queue: Queue;
  metrics: DaemonMetrics;
  /** Resolves once the spool is recovered and inbox and forwarder run. */
  active: Promise<void>;
  /** Messages handled so far (accepted + rejected), for lifecycle.maxRequests. */
  requestCount(): Promise<number>;
  /** A standby starts accepting on the shared sockets. */
  listen(): Promise<void>;
  report(): Promise<{ status: HealthStatus; body: Record<string, unknown> }>;
  metricsText(): Promise<{ contentType: string; text: string }>;
  /** A datagram the supervisor read from its copy of the UDP socket. */
  receiveDatagram(msg: Buffer): void;
  /**
   * Graceful stop (DESIGN section 3): drain connections, hand back batches, flush memory to the
   * spool. `drainPath`: the daemon stops and moved its socket there; accept the kernel's queue first.
   */
  stop(drainPath?: string): Promise<void>;
  /** Last resort after a bug: write memory to the spool without waiting for clients (only once active). */
  emergencyFlush(): Promise<void>;
}

/**
 * The worker's wiring (the daemon's own entry is the supervisor, lifecycle/supervisor.ts): build
 * each stage from the config and connect them. The worker accepts on
 * the shared sockets at once; it touches the spool (recovery, spills, forwarder, inbox) only after
 * `spoolFree` resolves, i.e. once no other worker is alive ("Worker restarts" in docs/daemon.md).
 */
export interface WorkerStartOptions {
  /** Listen at once; false for a standby that waits for listen() (see lifecycle.maxRequests). */
  listenNow: boolean;
  /** Called once this worker has handled lifecycle.maxRequests messages; it has stopped accepting. */
  onLimit: () => void;
}

/** The longest a worker spends warming up before it accepts (ingest.warmUpConnections). */
const WARM_UP_BUDGET_MS = 2_000;

export async function startWorkerPipeline(config: DaemonConfig, log: Logger, sockets: SharedSockets, spoolFree: Promise<void>, start: WorkerStartOptions): Promise<RunningWorker> {
  const startedAt = Date.now();
  warnIfHeapLimitBelowMaxMemory(config.lifecycle.maxMemoryMb, log);
  const paths = await ensureDaemonDirs(config.dataDir);
  const metrics = createDaemonMetrics();
  const logLimited = rateLimitedLog(log);
  const busy = new Set<string>(); // segments the forwarder holds; the quota must not delete them
  const spool = createSpool({
    dir: paths.spool,
    quarantineDir: paths.quarantine,
    maxBytes: config.spool.maxBytes,
    minFreeBytes: config.spool.minFreeBytes,
    whenFull: config.spool.whenFull,
    isBusy: (name) => busy.has(name),
    onDrop: (reason, items) => {
      metrics.dropped(reason, items);
      logLimited(`drop:${reason}`, { items, policy: config.spool.whenFull }, 'spool full: dropped items by policy');
    },
  });
  const q = createHandoverQueue({
    maxItems: Math.max(1_000, 10 * config.buffer.memoryItems),
    maxBytes: config.buffer.memoryBytes,
    spoolMaxBytes: config.spool.maxBytes,
  });
  const quarantine = createQuarantine({ dir: paths.quarantine });
  await quarantine.start();
  const intake = countHandled(createIntake(q, metrics, quarantine, logLimited, config.ingest.validation), config.lifecycle.maxRequests, () => {
    // Stop accepting now rather than at the next heartbeat: the successor (already started as a
    // standby at 3/4 of the limit) takes the queue, so the limit holds under load (finding 9).
    unix.stopAccepting();
    start.onLimit();
  });
  const unix = createUnixSocketSource({
    path: resolve(config.socket),
    maxConnections: config.ingest.maxConnections,
    maxMessageBytes: config.ingest.maxMessageBytes,
    idleTimeoutMs: config.ingest.idleTimeoutMs,
    intake,
    queue: q,
    metrics,
    shared: sockets.unix,
  });
  const udp = config.udp && sockets.udp ? createUdpSource({ maxMessageBytes: config.ingest.maxMessageBytes, intake, metrics, shared: sockets.udp }) : null;
  const inbox = createInboxSource({
    dir: paths.inbox,
    quarantineDir: paths.quarantine,
    sweepMs: config.ingest.inboxSweepMs,
    maxMessageBytes: config.ingest.maxMessageBytes,
    intake,
    metrics,
    logLimited,
  });
  let forwarder: Forwarder | null = null;
  let spoolWritable = { at: 0, ok: true };

  let listening: Promise<void> | null = null;
  const listen = (): Promise<void> =>
    (listening ??= (async () => {
      await unix.start();
      await udp?.start();
    })());
  const warmUp = config.ingest.warmUpConnections;
  if (warmUp > 0) {
    const w = await warmUpIngest({ connections: warmUp, validation: config.ingest.validation, maxMessageBytes: config.ingest.maxMessageBytes, budgetMs: WARM_UP_BUDGET_MS });
    if (w.cutShort || w.handled < warmUp) log.warn({ handled: w.handled, of: warmUp, ms: w.ms, reason: w.cutShort }, 'ingest warm-up cut short; accepting anyway');
    else log.info({ handled: w.handled, ms: w.ms }, 'ingest warmed up');
  }
  if (start.listenNow) await listen();

  let stopRequested = false;
  const active = (async () => {
    await spoolFree;
    const report = await spool.recover();
    metrics.recovered(report.items);
    if (report.quarantinedSegments > 0) metrics.quarantined('segment', report.quarantinedSegments);
    if (report.segments + report.tempFilesRemoved + report.quarantinedSegments > 0) log.info({ recovery: report }, 'spool recovered from a previous run');
    const real = createBufferedQueue({
      mode: config.buffer.mode,
      memoryItems: config.buffer.memoryItems,
      memoryBytes: config.buffer.memoryBytes,
      fsyncMs: config.buffer.fsyncMs,
      commitDelayMs: config.buffer.commitDelayMs,
      spoolMaxBytes: config.spool.maxBytes,
      spool,
      busySegments: busy,
      metrics,
      log,
    });
    q.activate(real);
    if (stopRequested) return; // stopping before we ever ran: flush what was held, start nothing more
    await inbox.start();
    const urls = forwardUrls(config.forward);
    if (urls.length > 0) {
      forwarder = createForwarder({
        queue: q,
        urls,
        forward: config.forward,
        circuitBreaker: config.circuitBreaker,
        stateDir: paths.state,
        quarantineDir: paths.quarantine,
        registry: metrics.registry,
        onSpoolReadError: () => metrics.spoolReadFailed(),
        log,
      });
      await forwarder.start();
    }
  })();

  const requestCount = async (): Promise<number> => {
    const s = await metrics.snapshot();
    return s.acceptedTotal + s.rejectedTotal;
  };

  let stopping: Promise<void> | null = null;
  return {
    queue: q,
    metrics,
    active,
    requestCount,
    listen,
    async report() {
      const now = Date.now();
      // Not before activation: the probe file would race the spool recovery, which removes *.tmp files.
      if (q.active() && now - spoolWritable.at > 1_000) spoolWritable = { at: now, ok: await spool.probeWritable() };
      const snapshot = await metrics.snapshot();
      const diskFreeBytes = await spool.freeBytes().catch(() => 0);
      return healthReport({
        checks: {
          socketListening: await unix.listening(),
          spoolWritable: spoolWritable.ok,
          udpBound: udp ? udp.address() !== null : null,
          diskFreeBytes,
          minFreeBytes: config.spool.minFreeBytes,
          mode: config.buffer.mode,
          whenFull: config.spool.whenFull,
        },
        lastDropAt: metrics.lastDropAt(),
        queue: q.stats(),
        metrics: snapshot,
        startedAt,
        now,
        spoolPath: paths.spool,
        worker: {
          requestCount: snapshot.acceptedTotal + snapshot.rejectedTotal,
          rssBytes: process.memoryUsage.rss(),
          memory: process.memoryUsage(),
          memoryLimitMb: config.lifecycle.maxMemoryMb,
          restarts: 0, // the supervisor fills in its count
          maxRequests: config.lifecycle.maxRequests,
        },
        forward: forwarder?.health() ?? null,
      });
    },
    async metricsText() {
      metrics.setQueueStats(q.stats());
      return { contentType: metrics.registry.contentType, text: await metrics.registry.metrics() };
    },
    receiveDatagram: (msg) => udp?.receive(msg),
    stop(drainPath) {
      stopping ??= (async () => {
        stopRequested = true;
        if (!listening) return; // a standby that never accepted holds nothing and never owned the spool
        await unix.stop(config.shutdown.drainMs, drainPath); // stop accepting; read what clients already sent
        await udp?.stop();
        await active; // the spool is ours only once the previous worker has gone
        await inbox.stop();
        await forwarder?.stop(config.shutdown.drainMs); // an in-flight batch is acked or handed back, never half-deleted
        await q.stop(); // memory -> spool, fsynced
        const s = q.stats();
        log.info({ spooled_items: s.spoolItems, spool_segments: s.spoolSegments }, 'worker stopped; memory flushed to the spool');
      })();
      return stopping;
    },
    async emergencyFlush() {
      if (q.active()) await q.flushToSpool();
    },
  };
}

/**
 * V8 aborts a process whose old generation outgrows --max-old-space-size, losing what memory mode
 * holds; the graceful replacement at lifecycle.maxMemoryMb must come first ("The worker's V8 flags").
 */
function warnIfHeapLimitBelowMaxMemory(maxMemoryMb: number, log: Logger): void {
  const heapLimitMb = Math.floor(getHeapStatistics().heap_size_limit / 1024 / 1024);
  if (heapLimitMb < maxMemoryMb) {
    log.warn({ heap_limit_mb: heapLimitMb, max_memory_mb: maxMemoryMb }, 'the V8 heap limit is below lifecycle.maxMemoryMb: raise --max-old-space-size or lower the limit, or V8 may abort before a graceful replacement');
  }
}

/** Counts every message the intake sees (accepted or rejected) and calls `onLimit` once at `max` (0 = never). */
function countHandled(intake: Intake, max: number, onLimit: () => void): Intake {
  if (max <= 0) return intake;
  let handled = 0;
  const count = (): void => {
    if (++handled === max) onLimit();
  };
  return {
    handle(raw, source, onSettled, cutOff) {
      count();
      return intake.handle(raw, source, onSettled, cutOff);
    },
    reject(code, sample, source) {
      count();
      intake.reject(code, sample, source);
    },
  };
}
