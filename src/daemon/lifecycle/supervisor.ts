import type { Socket as UdpSocket } from 'node:dgram';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DaemonConfig } from '../../shared/config/daemon-config.js';
import { writeJsonAtomic } from '../../shared/fs/json-file.js';
import { createHealthServer } from '../../shared/http/health-server.js';
import type { Logger } from '../../shared/telemetry/logger.js';
import { ensureDaemonDirs, type DaemonRuntimeInfo } from '../daemon-paths.js';
import { logRejectedReload, planReload } from './config-reload.js';
import { createHealthProxy } from './health-proxy.js';
import { bindUdpSocket, bindUnixSocket, udpAddress, type BoundUnixSocket } from './listen-sockets.js';
import { acquireLock } from './state-lock.js';
import { createWorkerPool, withTimeout, type WorkerPool } from './worker-pool.js';

export interface SupervisorOptions {
  config: DaemonConfig;
  /** Reads and validates the config file again (SIGHUP); rejects when it is invalid. */
  loadConfig: () => Promise<DaemonConfig>;
  log: Logger;
  /** How to start a worker. Default: worker-entry.js next to this file. */
  worker?: { modulePath: string; args: string[] };
  /** How long a new worker may take to accept. 30 s. */
  workerStartTimeoutMs?: number;
}

export interface Supervisor {
  /** Lock, sockets, health server, first worker; resolves once it owns the spool and forwards. */
  start(): Promise<DaemonRuntimeInfo>;
  /** SIGHUP: validate the config file; valid -> new worker with it, invalid -> keep the old. */
  reload(): Promise<void>;
  /** SIGTERM/SIGINT: stop the workers gracefully (memory to the spool), release everything. */
  stop(): Promise<void>;
  /** Second signal: kill the workers and give up the lock at once. */
  killNow(): void;
}

/**
 * The supervisor (DESIGN section 5): owns the lock and the listening sockets, runs the worker pool
 * (worker-pool.ts), serves /health and /metrics itself (health-proxy.ts), and applies SIGHUP
 * reloads (config-reload.ts). It loads no HTTP framework, schema or metrics library: it lives as
 * long as the daemon, on a busy web server.
 */
export function createSupervisor(o: SupervisorOptions): Supervisor {
  const log = o.log;
  let config = o.config;
  const startedAt = Date.now();
  const startTimeoutMs = o.workerStartTimeoutMs ?? 30_000;
  const workerCommand = o.worker ?? { modulePath: fileURLToPath(new URL('./worker-entry.js', import.meta.url)), args: [] };
  const reloadsByOutcome = { applied: 0, rejected: 0 };
  let udpRelayed = 0;
  let started = false; // the first worker owns the spool and forwards: start-up is over
  let shuttingDown = false;
  let pool: WorkerPool | null = null;
  let unix: BoundUnixSocket | null = null;
  let udp: UdpSocket | null = null;
  let lock: { release(): Promise<void> } | null = null;

  const proxy = createHealthProxy({
    current: () => pool?.current() ?? null,
    all: () => pool?.all() ?? [],
    facts: () => {
      const f = pool?.facts() ?? { restarts: 0, restartsByReason: {}, crashes: 0, workersAlive: 0 };
      return {
        ...f,
        starting: !started && !shuttingDown,
        pid: process.pid,
        startedAt,
        reloads: reloadsByOutcome.applied,
        reloadFailures: reloadsByOutcome.rejected,
        maxMemoryMb: config.lifecycle.maxMemoryMb,
        maxRequests: config.lifecycle.maxRequests,
        udpRelayed,
      };
    },
    counts: () => ({ restartsByReason: pool?.facts().restartsByReason ?? {}, reloadsByOutcome: { ...reloadsByOutcome } }),
  });
  const health = createHealthServer({ bind: config.health, report: () => proxy.report(), metrics: () => proxy.metrics() });

  return {
    async start() {
      const paths = await ensureDaemonDirs(config.dataDir);
      lock = await acquireLock(join(paths.state, 'daemon.lock'));
      try {
        unix = await bindUnixSocket(resolve(config.socket));
        if (config.udp) {
          udp = await bindUdpSocket(config.udp, (msg) => {
            // This copy of the shared socket read it: hand it to the worker that accepts.
            const w = pool?.current();
            if (!w) return;
            udpRelayed++;
            w.relayDatagram(msg);
          });
        }
        pool = createWorkerPool({ config: () => config, unix, udp, log, worker: workerCommand, startTimeoutMs });
        const healthAddress = await health.start();
        const first = pool.startFirst();
        await withTimeout(first.ready, startTimeoutMs, 'the first worker did not start accepting');
        await unix.publish(); // only now: a client never finds a socket file that refuses it
        await withTimeout(first.active, startTimeoutMs, 'the first worker did not become ready');
        started = true;
        const info: DaemonRuntimeInfo = { pid: process.pid, socket: unix.path, health: healthAddress, udp: udp ? udpAddress(udp) : null, dataDir: paths.root };
        await writeJsonAtomic(join(paths.state, 'daemon.json'), info);
        log.info({ socket: info.socket, health: info.health, udp: info.udp, dataDir: info.dataDir, mode: config.buffer.mode, worker_pid: first.pid }, 'daemon ready');
        return info;
      } catch (err) {
        shuttingDown = true;
        pool?.killAll();
        await health.stop().catch(() => undefined);
        await unix?.close();
        udp?.close();
        await lock.release();
        throw err;
      }
    },

    async reload() {
      if (shuttingDown || !pool) return;
      let next: DaemonConfig;
      try {
        next = await o.loadConfig();
      } catch (err) {
        reloadsByOutcome.rejected++;
        logRejectedReload(log, err);
        return;
      }
      if (shuttingDown) return;
      const plan = planReload(config, next);
      for (const i of plan.ignored) log.warn({ key: i.key, current: i.current, requested: i.requested }, `SIGHUP: ${i.key} cannot change on reload; restart the daemon to apply it`);
      config = plan.config;
      log.level = config.log.level;
      reloadsByOutcome.applied++;
      log.info({ forward_url: config.forward.url, forward_urls: config.forward.urls, log_level: config.log.level }, 'SIGHUP: config reloaded; rolling the worker');
      void pool.roll('reload');
    },

    async stop() {
      shuttingDown = true;
      // Issue 9, finding 1: new clients must fail fast (and use their inbox) before anyone stops
      // accepting, and whatever the kernel already queued must still be read.
      const drainPath =
        (await unix?.withdraw().catch((err: unknown) => {
          log.error({ err }, 'could not move the socket file away before stopping');
          return null;
        })) ?? undefined;
      await pool?.stopAll(drainPath);
      await health.stop().catch(() => undefined);
      await unix?.close();
      if (udp) await new Promise<void>((r) => udp?.close(() => r()));
      await lock?.release();
      const f = pool?.facts();
      log.info({ restarts: f?.restarts ?? 0, crashes: f?.crashes ?? 0 }, 'daemon stopped');
    },

    killNow() {
      shuttingDown = true;
      pool?.killAll();
      // The lock file names our pid; once we exit it is stale and the next daemon takes it over.
    },
  };
}
