import type { Socket as UdpSocket } from 'node:dgram';
import { lstat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DaemonConfig } from '../../shared/config/daemon-config.js';
import { writeJsonAtomic } from '../../shared/fs/json-file.js';
import { createHealthServer } from '../../shared/http/health-server.js';
import type { Logger } from '../../shared/telemetry/logger.js';
import { ensureDaemonDirs, type DaemonRuntimeInfo } from '../daemon-paths.js';
import { startWorkerPipeline, type RunningWorker } from '../worker-wiring.js';
import { logRejectedReload } from './config-reload.js';
import { bindUdpSocket, udpAddress } from './listen-sockets.js';
import { replacementReason, type ReplacementReason } from './replacement-policy.js';
import { acquireLock } from './state-lock.js';
import { supervisorHealth } from './supervisor-health.js';
import { PROMETHEUS_CONTENT_TYPE, renderSupervisorMetrics } from './supervisor-metrics.js';
import type { Supervisor } from './supervisor.js';

export interface OneProcessOptions {
  config: DaemonConfig;
  /** Reads and validates the config file again (SIGHUP); rejects when it is invalid. */
  loadConfig: () => Promise<DaemonConfig>;
  log: Logger;
  /** The listening Unix socket systemd passed (socket-activation.ts). */
  listenFd: number;
  /** Ends the process after a planned stop (a limit or a reload); systemd starts the next one. */
  exit: (code: number) => void;
}

export interface OneProcessDaemon extends Supervisor {
  /** After a bug: write memory to the spool without waiting for clients. */
  emergencyFlush(): Promise<void>;
}

/** How often the RSS is checked (the supervisor's workers report as often). */
const LIMIT_CHECK_MS = 1_000;
/**
 * A process younger than this is not replaced for its RSS. Each replacement is a gap in which
 * clients wait in the kernel's queue (and use their inbox once their budget is spent), and a
 * fresh process has no memory of the last one's streak: a limit set below what a fresh daemon
 * needs must not turn into a restart loop.
 */
const MIN_LIFETIME_FOR_RSS_MS = 30_000;

/**
 * The daemon as one process under systemd socket activation (docs/daemon.md, "One process under
 * systemd"): systemd owns the listening socket and its accept queue, so the daemon needs no
 * supervisor of its own. This process runs the worker's pipeline directly and serves /health and
 * /metrics; at a lifecycle limit or on SIGHUP it stops gracefully (memory to the spool) and exits,
 * and systemd starts the next one on the same socket (Restart=always), which replays the spool.
 * Clients that connect in between wait in the kernel's queue: none is refused.
 */
export function createOneProcessDaemon(o: OneProcessOptions): OneProcessDaemon {
  const log = o.log;
  const config = o.config;
  const startedAt = Date.now();
  const reloadsByOutcome = { applied: 0, rejected: 0 };
  let pipeline: RunningWorker | null = null;
  let active = false;
  let stopping: Promise<void> | null = null;
  let udp: UdpSocket | null = null;
  let lock: { release(): Promise<void> } | null = null;
  let limitTimer: NodeJS.Timeout | null = null;

  const health = createHealthServer({
    bind: config.health,
    async report() {
      const answer = pipeline ? await pipeline.report() : null;
      const r = supervisorHealth(answer, {
        starting: !active && !stopping,
        pid: process.pid,
        startedAt,
        now: Date.now(),
        restarts: 0, // systemd restarts the process: `systemctl show -p NRestarts`
        restartsByReason: {},
        crashes: 0,
        workerPid: pipeline ? process.pid : null,
        workerGeneration: pipeline ? 1 : null,
        workersAlive: pipeline ? 1 : 0,
        reloads: reloadsByOutcome.applied,
        reloadFailures: reloadsByOutcome.rejected,
        maxMemoryMb: config.lifecycle.maxMemoryMb,
        maxRequests: config.lifecycle.maxRequests,
        udpRelayed: 0,
      });
      return { status: r.status, body: { ...r.body, process_model: 'socket-activated' } };
    },
    async metrics() {
      const own = renderSupervisorMetrics({ restartsByReason: {}, reloadsByOutcome: { ...reloadsByOutcome }, workerUp: pipeline !== null });
      const worker = pipeline ? await pipeline.metricsText() : null;
      return { contentType: worker?.contentType ?? PROMETHEUS_CONTENT_TYPE, text: own + (worker?.text ?? '') };
    },
  });

  function replaceSelf(reason: ReplacementReason | 'reload'): void {
    if (stopping) return;
    log.info({ reason }, 'stopping for a replacement: memory goes to the spool, systemd starts the next process on the same socket');
    stop().then(
      () => o.exit(0),
      (err: unknown) => {
        log.fatal({ err }, 'graceful stop for a replacement failed');
        o.exit(1);
      },
    );
  }

  /** lifecycle.maxMemoryMb; maxRequests needs no timer: the pipeline calls onLimit at the limit itself. */
  function watchMemory(): void {
    limitTimer = setInterval(() => {
      const limits = { maxMemoryMb: config.lifecycle.maxMemoryMb, maxRequests: 0, minLifetimeMs: MIN_LIFETIME_FOR_RSS_MS };
      const reason = replacementReason(limits, process.memoryUsage.rss(), 0, Date.now() - startedAt);
      if (reason) replaceSelf(reason);
    }, LIMIT_CHECK_MS);
    limitTimer.unref();
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      if (limitTimer) clearInterval(limitTimer);
      // No socket file to move away: it is systemd's, and what its queue holds is the next process's.
      await pipeline?.stop();
      await health.stop().catch(() => undefined);
      await lock?.release();
      log.info('daemon stopped');
    })();
    return stopping;
  }

  return {
    async start() {
      const paths = await ensureDaemonDirs(config.dataDir);
      lock = await acquireLock(join(paths.state, 'daemon.lock'));
      try {
        const socketPath = resolve(config.socket);
        const st = await lstat(socketPath).catch(() => null);
        if (!st?.isSocket()) {
          throw new Error(`socket activation: ${socketPath} (config.socket) is not a socket; ListenStream= in the .socket unit must name the same path`);
        }
        if (config.udp) udp = await bindUdpSocket(config.udp, () => undefined); // the pipeline's UDP source reads it
        const healthAddress = await health.start();
        const p = await startWorkerPipeline(config, log, { unix: { handle: { fd: o.listenFd }, inode: st.ino }, udp }, Promise.resolve(), {
          listenNow: true,
          onLimit: () => replaceSelf('max_requests'),
        });
        pipeline = p;
        await p.active;
        active = true;
        watchMemory();
        const info: DaemonRuntimeInfo = { pid: process.pid, socket: socketPath, health: healthAddress, udp: udp ? udpAddress(udp) : null, dataDir: paths.root };
        await writeJsonAtomic(join(paths.state, 'daemon.json'), info);
        log.info({ socket: info.socket, health: info.health, udp: info.udp, dataDir: info.dataDir, mode: config.buffer.mode, process_model: 'socket-activated' }, 'daemon ready');
        return info;
      } catch (err) {
        await pipeline?.emergencyFlush().catch(() => undefined);
        await health.stop().catch(() => undefined);
        udp?.close();
        await lock.release();
        throw err;
      }
    },

    async reload() {
      if (stopping) return;
      try {
        await o.loadConfig();
      } catch (err) {
        reloadsByOutcome.rejected++;
        logRejectedReload(log, err);
        return;
      }
      reloadsByOutcome.applied++;
      replaceSelf('reload'); // the next process reads the file itself
    },

    stop,

    killNow() {
      // The lock file names our pid; once we exit it is stale and the next daemon takes it over.
    },

    async emergencyFlush() {
      await pipeline?.emergencyFlush();
    },
  };
}
