import { mkdir, writeFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DaemonConfig } from '../shared/config/daemon-config.js';
import type { Logger } from '../shared/telemetry/logger.js';
import { rateLimitedLog } from '../shared/telemetry/rate-limited-log.js';
import { createBufferedQueue } from './buffer/buffered-queue.js';
import type { Queue } from './buffer/queue.js';
import { healthReport } from './health/health-report.js';
import { createHealthServer } from './health/health-server.js';
import { createDaemonMetrics, type DaemonMetrics } from './health/metrics.js';
import { createForwarder, type Forwarder } from './forward/forwarder.js';
import { createInboxSource } from './ingest/inbox.js';
import { createIntake } from './ingest/intake.js';
import { createUdpSource } from './ingest/udp.js';
import { createUnixSocketSource } from './ingest/unix-socket.js';
import { acquireLock } from './lifecycle/state-lock.js';
import { createQuarantine } from './spool/quarantine.js';
import { createSpool } from './spool/spool.js';

/** Where a running daemon says it can be reached; tests and `bitville-apm status` read it. */
export interface DaemonRuntimeInfo {
  pid: number;
  socket: string;
  health: string;
  udp: string | null;
  dataDir: string;
}

export interface RunningDaemon {
  info: DaemonRuntimeInfo;
  queue: Queue;
  metrics: DaemonMetrics;
  /** Graceful stop (DESIGN section 3): drain connections, flush memory to the spool. */
  stop(): Promise<void>;
  /** Last resort after a bug: write memory to the spool without waiting for clients. */
  emergencyFlush(): Promise<void>;
}

export function daemonPaths(dataDir: string) {
  const root = resolve(dataDir);
  return {
    root,
    spool: join(root, 'buffer'),
    inbox: join(root, 'inbox'),
    quarantine: join(root, 'quarantine'),
    state: join(root, 'state'),
  };
}

/** Wiring only: build each stage from the config and connect them. */
export async function startDaemon(config: DaemonConfig, log: Logger): Promise<RunningDaemon> {
  const startedAt = Date.now();
  const paths = daemonPaths(config.dataDir);
  for (const dir of [paths.root, paths.spool, paths.inbox, paths.quarantine, paths.state]) {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new Error(`cannot create ${dir}: ${(err as Error).message} (set dataDir to a writable folder)`);
    }
  }
  const lock = await acquireLock(join(paths.state, 'daemon.lock'));
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
  try {
    const report = await spool.recover();
    metrics.recovered(report.items);
    if (report.quarantinedSegments > 0) metrics.quarantined('segment', report.quarantinedSegments);
    if (report.segments + report.tempFilesRemoved + report.quarantinedSegments > 0) log.info({ recovery: report }, 'spool recovered from a previous run');
  } catch (err) {
    await lock.release();
    throw err;
  }
  const q = createBufferedQueue({
    mode: config.buffer.mode,
    memoryItems: config.buffer.memoryItems,
    memoryBytes: config.buffer.memoryBytes,
    fsyncMs: config.buffer.fsyncMs,
    spoolMaxBytes: config.spool.maxBytes,
    spool,
    busySegments: busy,
    metrics,
    log,
  });
  const quarantine = createQuarantine({ dir: paths.quarantine });
  await quarantine.start();
  const intake = createIntake(q, metrics, quarantine, logLimited);
  const unix = createUnixSocketSource({
    path: resolve(config.socket),
    maxConnections: config.ingest.maxConnections,
    maxMessageBytes: config.ingest.maxMessageBytes,
    idleTimeoutMs: config.ingest.idleTimeoutMs,
    intake,
    queue: q,
    metrics,
  });
  const udp = config.udp ? createUdpSource({ bind: config.udp, maxMessageBytes: config.ingest.maxMessageBytes, intake, metrics }) : null;
  const inbox = createInboxSource({
    dir: paths.inbox,
    quarantineDir: paths.quarantine,
    sweepMs: config.ingest.inboxSweepMs,
    maxMessageBytes: config.ingest.maxMessageBytes,
    intake,
    metrics,
    logLimited,
  });
  let spoolWritable = { at: 0, ok: true };

  const health = createHealthServer({
    bind: config.health,
    report: async () => {
      const now = Date.now();
      if (now - spoolWritable.at > 1_000) spoolWritable = { at: now, ok: await spool.probeWritable() };
      const queueStats = q.stats();
      const snapshot = await metrics.snapshot();
      return healthReport({
        checks: { socketListening: await unix.listening(), spoolWritable: spoolWritable.ok, udpBound: udp ? udp.address() !== null : null },
        queue: queueStats,
        metrics: snapshot,
        startedAt,
        now,
        spoolPath: paths.spool,
        worker: {
          requestCount: snapshot.acceptedTotal + snapshot.rejectedTotal,
          rssBytes: process.memoryUsage.rss(),
          memoryLimitMb: config.lifecycle.maxMemoryMb,
          restarts: 0,
          maxRequests: config.lifecycle.maxRequests,
        },
        forward: forwarder?.health() ?? null,
      });
    },
    metrics: async () => {
      metrics.setQueueStats(q.stats());
      return { contentType: metrics.registry.contentType, text: await metrics.registry.metrics() };
    },
  });

  const forwardUrl = config.forward.url;
  const forwarder: Forwarder | null = forwardUrl
    ? createForwarder({
        queue: q,
        forward: { ...config.forward, url: forwardUrl },
        circuitBreaker: config.circuitBreaker,
        stateDir: paths.state,
        quarantineDir: paths.quarantine,
        registry: metrics.registry,
        log,
      })
    : null;

  const started: Array<{ stop(): Promise<void> }> = [];
  try {
    await unix.start();
    started.push({ stop: () => unix.stop(config.shutdown.drainMs) });
    if (udp) {
      await udp.start();
      started.push(udp);
    }
    const healthAddress = await health.start();
    started.push(health);
    await inbox.start();
    started.push(inbox);
    if (forwarder) {
      await forwarder.start();
      started.push({ stop: () => forwarder.stop(config.shutdown.drainMs) });
    }
    const info: DaemonRuntimeInfo = { pid: process.pid, socket: resolve(config.socket), health: healthAddress, udp: udp?.address() ?? null, dataDir: paths.root };
    await writeJsonAtomic(join(paths.state, 'daemon.json'), info);
    log.info({ socket: info.socket, health: info.health, udp: info.udp, dataDir: info.dataDir, mode: config.buffer.mode }, 'daemon ready');

    let stopping: Promise<void> | null = null;
    return {
      info,
      queue: q,
      metrics,
      stop() {
        stopping ??= (async () => {
          await unix.stop(config.shutdown.drainMs); // stop accepting; read what clients already sent
          await udp?.stop();
          await inbox.stop();
          await forwarder?.stop(config.shutdown.drainMs); // an in-flight batch is acked or handed back, never half-deleted
          await q.stop(); // memory -> spool, fsynced
          await health.stop();
          await lock.release();
          const s = q.stats();
          log.info({ spooled_items: s.spoolItems, spool_segments: s.spoolSegments }, 'daemon stopped; memory flushed to the spool');
        })();
        return stopping;
      },
      emergencyFlush: () => q.flushToSpool(),
    };
  } catch (err) {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    await q.stop().catch(() => undefined);
    await lock.release();
    throw err;
  }
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
  await rename(tmp, path);
}
