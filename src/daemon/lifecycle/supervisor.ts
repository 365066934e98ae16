import type { Socket as UdpSocket } from 'node:dgram';
import { rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Counter, Gauge, Registry } from 'prom-client';
import type { DaemonConfig } from '../../shared/config/daemon-config.js';
import type { Logger } from '../../shared/telemetry/logger.js';
import type { HealthStatus } from '../health/health-report.js';
import { createHealthServer } from '../../shared/http/health-server.js';
import { ensureDaemonDirs, type DaemonRuntimeInfo } from '../daemon-paths.js';
import { bindUdpSocket, bindUnixSocket, udpAddress, type BoundUnixSocket } from './listen-sockets.js';
import { replacementReason, type ReplacementReason } from './replacement-policy.js';
import { nextCrashStreak, restartDelayMs } from './restart-backoff.js';
import { acquireLock } from './state-lock.js';
import { supervisorHealth } from './supervisor-health.js';
import { forkWorker, type WorkerExit, type WorkerHandle } from './worker-handle.js';

export interface SupervisorOptions {
  config: DaemonConfig;
  /** Reads and validates the config file again (SIGHUP); throws when it is invalid. */
  loadConfig: () => DaemonConfig;
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
  reload(): void;
  /** SIGTERM/SIGINT: stop the workers gracefully (memory to the spool), release everything. */
  stop(): Promise<void>;
  /** Second signal: kill the workers and give up the lock at once. */
  killNow(): void;
}

type RollReason = ReplacementReason | 'reload';

/** Keys that name sockets and folders: a reload cannot move them (the supervisor owns them). */
const RESTART_ONLY_KEYS = ['socket', 'udp', 'dataDir', 'health'] as const;

/** Workers younger than this are not replaced for their RSS (a fresh Node process may already exceed a tiny limit). */
const MIN_LIFETIME_FOR_RSS_MS = 2_000;
const MAX_LIFETIME_FOR_RSS_MS = 5 * 60_000;
const HEALTH_ASK_TIMEOUT_MS = 1_000;
/** How long a worker's last /health answer may stand in when it is too busy to answer. */
const STALE_ANSWER_MS = 10_000;

/**
 * The supervisor (DESIGN section 5): owns the lock and the listening sockets, runs one worker and
 * replaces it, overlapping, when it grows too big, has handled maxRequests messages, or a reload
 * asks for it; restarts a crashed one with backoff; serves /health and /metrics itself, asking
 * the worker over IPC, so both keep answering while workers change.
 */
export function createSupervisor(o: SupervisorOptions): Supervisor {
  const log = o.log;
  let config = o.config;
  const startedAt = Date.now();
  const startTimeoutMs = o.workerStartTimeoutMs ?? 30_000;
  const workerCommand = o.worker ?? { modulePath: fileURLToPath(new URL('./worker-entry.js', import.meta.url)), args: [] };
  let workers: WorkerHandle[] = []; // alive, oldest first
  const activationSent = new Set<WorkerHandle>();
  let generation = 0;
  let restarts = 0;
  const restartsByReason: Record<string, number> = {};
  let crashes = 0;
  let crashStreak = 0;
  let reloads = 0;
  let reloadFailures = 0;
  let udpRelayed = 0;
  let lastAnswer: { at: number; answer: { status: HealthStatus; body: Record<string, unknown> } } | null = null;
  let rssStreak = 0; // consecutive max_memory replacements
  let rolling = false;
  let rollAgain: RollReason | null = null;
  let restartTimer: NodeJS.Timeout | null = null;
  let shuttingDown = false;
  let started = false; // the first worker owns the spool and forwards: start-up is over
  let unix: BoundUnixSocket | null = null;
  let udp: UdpSocket | null = null;
  let lock: { release(): Promise<void> } | null = null;

  const registry = new Registry();
  const restartCounter = new Counter({ name: 'bitville_daemon_worker_restarts_total', help: 'Workers started after the first, by reason', labelNames: ['reason'], registers: [registry] });
  const workerUp = new Gauge({ name: 'bitville_daemon_worker_up', help: '1 while a worker accepts on the socket', registers: [registry] });
  const reloadCounter = new Counter({ name: 'bitville_daemon_config_reloads_total', help: 'SIGHUP reloads, by outcome', labelNames: ['outcome'], registers: [registry] });

  const health = createHealthServer({
    bind: config.health,
    async report() {
      const w = current();
      let answer: { status: HealthStatus; body: Record<string, unknown> } | null = w ? await w.health(HEALTH_ASK_TIMEOUT_MS) : null;
      // A worker busy taking over may answer late: ask another one that accepts, else reuse a
      // recent answer while a worker is known to accept, so /health stays up through a replacement.
      // A starting or draining worker is never asked: its own socket check says "not listening"
      // although the supervisor's socket is (the flaky 503 seen under load during replacements).
      for (const other of [...workers].reverse()) {
        if (answer || other === w || (other.state() !== 'staging' && other.state() !== 'active')) continue;
        answer = await other.health(HEALTH_ASK_TIMEOUT_MS);
      }
      if (answer) lastAnswer = { at: Date.now(), answer };
      else if (w && lastAnswer && Date.now() - lastAnswer.at < STALE_ANSWER_MS) answer = lastAnswer.answer;
      return supervisorHealth(answer ? { status: answer.status, body: answer.body } : null, {
        starting: !started && !shuttingDown,
        pid: process.pid,
        startedAt,
        now: Date.now(),
        restarts,
        restartsByReason: { ...restartsByReason },
        crashes,
        workerPid: w?.pid ?? null,
        workerGeneration: w?.generation ?? null,
        workersAlive: workers.length,
        reloads,
        reloadFailures,
        maxMemoryMb: config.lifecycle.maxMemoryMb,
        maxRequests: config.lifecycle.maxRequests,
        udpRelayed,
      });
    },
    async metrics() {
      const w = current();
      workerUp.set(w ? 1 : 0);
      const own = await registry.metrics();
      const answer = w ? await w.metrics(HEALTH_ASK_TIMEOUT_MS) : null;
      return { contentType: answer?.contentType ?? registry.contentType, text: own + (answer?.text ?? '') };
    },
  });

  /** The newest worker that accepts: it answers /health and is watched for the limits. */
  function current(): WorkerHandle | null {
    for (let i = workers.length - 1; i >= 0; i--) {
      const w = workers[i] as WorkerHandle;
      if (w.state() === 'staging' || w.state() === 'active') return w;
    }
    return null;
  }

  function countRestart(reason: string): void {
    restarts++;
    restartsByReason[reason] = (restartsByReason[reason] ?? 0) + 1;
    restartCounter.inc({ reason });
  }

  /** A worker may own the spool only when no other worker is alive ("Worker restarts" in docs/daemon.md). */
  function activateIfAlone(): void {
    if (workers.length !== 1) return;
    const w = workers[0] as WorkerHandle;
    if (w === standby) standby = null;
    w.listen(); // a standby left alone (its predecessor crashed) must accept now
    if (activationSent.has(w)) return;
    activationSent.add(w);
    w.activate();
  }

  /**
   * A worker started early but not accepting, so that a max_requests replacement is instant: the
   * old worker stops accepting at exactly its limit and the standby takes the queue at once.
   */
  let standby: WorkerHandle | null = null;

  function spawn(activateNow: boolean, listen = true): WorkerHandle {
    if (!unix) throw new Error('supervisor: spawn before the socket is bound');
    generation++;
    const w = forkWorker({
      modulePath: workerCommand.modulePath,
      args: workerCommand.args,
      config,
      generation,
      unix,
      udp,
      activate: activateNow,
      listen,
      onHeartbeat: checkLimits,
      log,
    });
    if (activateNow) activationSent.add(w);
    workers.push(w);
    log.info({ worker_pid: w.pid, generation: w.generation }, 'worker started');
    void w.exited.then((exit) => onExit(w, exit));
    return w;
  }

  function onExit(w: WorkerHandle, exit: WorkerExit): void {
    const planned = shuttingDown || w.stopRequested();
    if (w === standby) standby = null;
    workers = workers.filter((x) => x !== w);
    activationSent.delete(w);
    const lifetimeMs = Date.now() - w.startedAt;
    if (planned && exit.code === 0) log.info({ worker_pid: w.pid, generation: w.generation }, 'worker exited after a graceful stop');
    else {
      crashes++;
      crashStreak = nextCrashStreak(crashStreak, lifetimeMs);
      log.error({ worker_pid: w.pid, generation: w.generation, code: exit.code, signal: exit.signal, lifetime_ms: lifetimeMs }, 'worker died');
    }
    activateIfAlone();
    if (workers.length === 0 && !shuttingDown) scheduleRestart();
  }

  function scheduleRestart(): void {
    if (restartTimer) return;
    const delayMs = restartDelayMs(Math.max(1, crashStreak));
    log.warn({ delay_ms: delayMs, crash_streak: crashStreak }, 'no worker running: restarting one after a backoff');
    restartTimer = setTimeout(() => {
      restartTimer = null;
      if (shuttingDown || workers.length > 0) return;
      countRestart('crash');
      spawn(true);
    }, delayMs);
  }

  function checkLimits(w: WorkerHandle): void {
    if (shuttingDown || rolling || w !== current() || w.state() !== 'active') return;
    const beat = w.lastHeartbeat();
    if (!beat) return;
    if (beat.rssBytes <= config.lifecycle.maxMemoryMb * 1024 * 1024) rssStreak = 0;
    // A worker that is over the limit right after a replacement (e.g. it just read a big spool)
    // is not helped by another one at once: wait longer each time instead of churning.
    const minLifetimeMs = Math.min(MAX_LIFETIME_FOR_RSS_MS, MIN_LIFETIME_FOR_RSS_MS * 2 ** rssStreak);
    const limit = config.lifecycle.maxRequests;
    if (limit > 0 && !standby && beat.requestCount >= 0.75 * limit && beat.requestCount < limit) {
      standby = spawn(false, false);
      log.info({ worker_pid: standby.pid, request_count: beat.requestCount, max_requests: limit }, 'started a standby worker for the coming max_requests replacement');
    }
    const reason = replacementReason(
      { maxMemoryMb: config.lifecycle.maxMemoryMb, maxRequests: config.lifecycle.maxRequests, minLifetimeMs },
      beat.rssBytes,
      beat.requestCount,
      Date.now() - w.startedAt,
    );
    if (reason === 'max_memory' && ++rssStreak >= 3) {
      log.warn({ rss_mb: Math.round(beat.rssBytes / 1024 / 1024), max_memory_mb: config.lifecycle.maxMemoryMb, streak: rssStreak }, 'fresh workers keep exceeding lifecycle.maxMemoryMb; consider raising it');
    }
    if (reason) {
      log.info({ worker_pid: w.pid, reason, rss_mb: Math.round(beat.rssBytes / 1024 / 1024), request_count: beat.requestCount }, 'replacing the worker');
      void roll(reason);
    }
  }

  /** New worker first; once it accepts, the old one stops gracefully; the new one then owns the spool. */
  async function roll(reason: RollReason): Promise<void> {
    if (shuttingDown) return;
    if (rolling) {
      rollAgain = reason;
      return;
    }
    rolling = true;
    try {
      if (standby && reason !== 'max_requests') {
        void standby.stop(); // built for the old config (reload): it never accepted anything, so it just exits
        standby = null;
      }
      const old = workers.filter((w) => w.state() !== 'stopping' && w !== standby);
      const next = standby ?? spawn(workers.length === 0);
      standby = null;
      next.listen();
      try {
        await withTimeout(next.ready, startTimeoutMs, 'the new worker did not start accepting');
      } catch (err) {
        log.error({ err, reason }, `worker replacement failed, keeping the running worker: ${(err as Error).message}`);
        next.kill();
        return;
      }
      countRestart(reason);
      await Promise.all(old.map((w) => stopWorker(w)));
      await next.active.catch(() => undefined); // activated by activateIfAlone when the old one exited
    } finally {
      rolling = false;
      const again = rollAgain;
      rollAgain = null;
      if (again && !shuttingDown) void roll(again);
    }
  }

  /** Graceful stop with a deadline: drain, forwarder and flush each get drainMs, plus slack. */
  async function stopWorker(w: WorkerHandle, drainPath?: string): Promise<void> {
    const deadlineMs = 3 * config.shutdown.drainMs + 10_000;
    const timer = setTimeout(() => {
      log.error({ worker_pid: w.pid, deadline_ms: deadlineMs }, 'worker did not stop in time: killing it');
      w.kill();
    }, deadlineMs);
    try {
      await w.stop(drainPath);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async start() {
      const paths = await ensureDaemonDirs(config.dataDir);
      lock = await acquireLock(join(paths.state, 'daemon.lock'));
      try {
        unix = await bindUnixSocket(resolve(config.socket));
        if (config.udp) {
          udp = await bindUdpSocket(config.udp, (msg) => {
            // This copy of the shared socket read it: hand it to the worker that accepts.
            const w = current();
            if (!w) return;
            udpRelayed++;
            w.relayDatagram(msg);
          });
        }
        const healthAddress = await health.start();
        const first = spawn(true);
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
        if (restartTimer) clearTimeout(restartTimer);
        for (const w of workers) w.kill();
        await health.stop().catch(() => undefined);
        await unix?.close();
        udp?.close();
        await lock.release();
        throw err;
      }
    },

    reload() {
      if (shuttingDown) return;
      let next: DaemonConfig;
      try {
        next = o.loadConfig();
      } catch (err) {
        reloadFailures++;
        reloadCounter.inc({ outcome: 'rejected' });
        const detail = (err as Error).message.replace(/\s*\n\s*/g, ' ');
        log.error({ error_code: 'config_invalid' }, `SIGHUP: config reload rejected, keeping the current config: ${detail}`);
        return;
      }
      const kept: Record<string, unknown> = {};
      for (const key of RESTART_ONLY_KEYS) {
        if (JSON.stringify(next[key]) !== JSON.stringify(config[key])) {
          log.warn({ key, current: config[key], requested: next[key] }, `SIGHUP: ${key} cannot change on reload; restart the daemon to apply it`);
        }
        kept[key] = config[key];
      }
      config = Object.freeze({ ...next, ...kept }) as DaemonConfig;
      log.level = config.log.level;
      reloads++;
      reloadCounter.inc({ outcome: 'applied' });
      log.info({ forward_url: config.forward.url, log_level: config.log.level }, 'SIGHUP: config reloaded; rolling the worker');
      void roll('reload');
    },

    async stop() {
      shuttingDown = true;
      if (restartTimer) clearTimeout(restartTimer);
      restartTimer = null;
      // Issue 9, finding 1: new clients must fail fast (and use their inbox) before anyone stops
      // accepting, and whatever the kernel already queued must still be read.
      const drainPath = (await unix?.withdraw().catch((err: unknown) => {
        log.error({ err }, 'could not move the socket file away before stopping');
        return null;
      })) ?? undefined;
      await Promise.all(workers.map((w) => stopWorker(w, drainPath)));
      await health.stop().catch(() => undefined);
      await unix?.close();
      if (udp) await new Promise<void>((r) => udp?.close(() => r()));
      await lock?.release();
      log.info({ restarts, crashes }, 'daemon stopped');
    },

    killNow() {
      shuttingDown = true;
      for (const w of workers) w.kill();
      // The lock file names our pid; once we exit it is stale and the next daemon takes it over.
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolvePromise(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
  await rename(tmp, path);
}
