import type { Socket as UdpSocket } from 'node:dgram';
import type { DaemonConfig } from '../../shared/config/daemon-config.js';
import type { Logger } from '../../shared/telemetry/logger.js';
import type { BoundUnixSocket } from './listen-sockets.js';
import { replacementReason, type ReplacementReason } from './replacement-policy.js';
import { nextCrashStreak, restartDelayMs } from './restart-backoff.js';
import { forkWorker, type WorkerExit, type WorkerHandle } from './worker-handle.js';

export type RollReason = ReplacementReason | 'reload';

export interface WorkerPoolOptions {
  /** The current config (a reload changes it). */
  config: () => DaemonConfig;
  unix: BoundUnixSocket;
  udp: UdpSocket | null;
  log: Logger;
  /** How to start a worker: worker-entry.js and its arguments. */
  worker: { modulePath: string; args: string[] };
  /** How long a new worker may take to accept. */
  startTimeoutMs: number;
}

export interface PoolFacts {
  /** Workers started after the first: planned replacements plus crash restarts. */
  restarts: number;
  restartsByReason: Record<string, number>;
  crashes: number;
  workersAlive: number;
}

export interface WorkerPool {
  /** Starts the first worker (it owns the spool at once). */
  startFirst(): WorkerHandle;
  /** The newest worker that accepts: it answers /health and is watched for the limits. */
  current(): WorkerHandle | null;
  /** Alive, oldest first. */
  all(): readonly WorkerHandle[];
  /** New worker first; once it accepts, the old one stops gracefully; the new one then owns the spool. */
  roll(reason: RollReason): Promise<void>;
  /** Graceful stop of every worker; `drainPath` as in the `stop` IPC message. */
  stopAll(drainPath?: string): Promise<void>;
  killAll(): void;
  facts(): PoolFacts;
}

/** Workers younger than this are not replaced for their RSS (a fresh Node process may already exceed a tiny limit). */
const MIN_LIFETIME_FOR_RSS_MS = 2_000;
const MAX_LIFETIME_FOR_RSS_MS = 5 * 60_000;
/** How often the watchdog looks at the workers' last heartbeats (they come every HEARTBEAT_MS). */
const WATCHDOG_TICK_MS = 1000;

/**
 * The supervisor's workers (DESIGN section 5): one worker normally, overlapping replacements when
 * it grows too big, has handled maxRequests messages or a reload asks for it, and a restart with
 * backoff after a crash. At most one worker owns the spool ("Worker restarts" in docs/daemon.md):
 * a new one is activated only once it is alone.
 */
export function createWorkerPool(o: WorkerPoolOptions): WorkerPool {
  const log = o.log;
  let workers: WorkerHandle[] = [];
  const activationSent = new Set<WorkerHandle>();
  let generation = 0;
  let restarts = 0;
  const restartsByReason: Record<string, number> = {};
  let crashes = 0;
  let crashStreak = 0;
  let rssStreak = 0; // consecutive max_memory replacements
  let rolling = false;
  let rollAgain: RollReason | null = null;
  let restartTimer: NodeJS.Timeout | null = null;
  let shuttingDown = false;
  const unresponsive = new WeakSet<WorkerHandle>(); // killed by the watchdog
  let lastDeath: 'crash' | 'unresponsive' = 'crash';
  const watchdog = setInterval(killUnresponsive, WATCHDOG_TICK_MS);
  watchdog.unref();
  /**
   * A worker started early but not accepting, so that a max_requests replacement is instant: the
   * old worker stops accepting at exactly its limit and the standby takes the queue at once.
   */
  let standby: WorkerHandle | null = null;

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
  }

  /** A worker may own the spool only when no other worker is alive. */
  function activateIfAlone(): void {
    if (workers.length !== 1) return;
    const w = workers[0] as WorkerHandle;
    if (w === standby) standby = null;
    w.listen(); // a standby left alone (its predecessor crashed) must accept now
    if (activationSent.has(w)) return;
    activationSent.add(w);
    w.activate();
  }

  function spawn(activateNow: boolean, listen = true): WorkerHandle {
    generation++;
    const w = forkWorker({
      modulePath: o.worker.modulePath,
      args: o.worker.args,
      config: o.config(),
      generation,
      unix: o.unix,
      udp: o.udp,
      activate: activateNow,
      listen,
      onHeartbeat: checkLimits,
      log,
    });
    if (activateNow) activationSent.add(w);
    workers.push(w);
    log.info({ worker_pid: w.pid, generation: w.generation, standby: !listen }, 'worker started');
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
      lastDeath = unresponsive.has(w) ? 'unresponsive' : 'crash';
      log.error({ worker_pid: w.pid, generation: w.generation, code: exit.code, signal: exit.signal, lifetime_ms: lifetimeMs, cause: lastDeath }, 'worker died');
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
      countRestart(lastDeath);
      spawn(true);
    }, delayMs);
  }

  /**
   * A worker whose event loop is stuck (a livelock, a blocking bug) still holds its accepted
   * connections and its memory buffer, answers nothing and never exits: only a kill gets the
   * daemon going again. Silent for lifecycle.unresponsiveMs since its last heartbeat (or its ready): SIGKILL,
   * then the crash path restarts one (with backoff). Graceful stops have their own deadline.
   */
  function killUnresponsive(): void {
    const limitMs = o.config().lifecycle.unresponsiveMs;
    if (limitMs === 0 || shuttingDown) return;
    const now = Date.now();
    for (const w of workers) {
      const at = w.lastHeardAt();
      if (at === null || now - at <= limitMs || w.state() === 'stopping' || unresponsive.has(w)) continue;
      unresponsive.add(w);
      log.error({ worker_pid: w.pid, generation: w.generation, silent_ms: now - at, unresponsive_ms: limitMs }, 'worker unresponsive: no heartbeat; killing it, a new one follows');
      w.kill();
    }
  }

  function checkLimits(w: WorkerHandle): void {
    if (shuttingDown || rolling || w !== current() || w.state() !== 'active') return;
    const beat = w.lastHeartbeat();
    if (!beat) return;
    const limits = o.config().lifecycle;
    if (beat.rssBytes <= limits.maxMemoryMb * 1024 * 1024) rssStreak = 0;
    if (limits.maxRequests > 0 && !standby && beat.requestCount >= 0.75 * limits.maxRequests && beat.requestCount < limits.maxRequests) {
      standby = spawn(false, false);
      log.info({ worker_pid: standby.pid, request_count: beat.requestCount, max_requests: limits.maxRequests }, 'started a standby worker for the coming max_requests replacement');
    }
    // A worker that is over the limit right after a replacement (e.g. it just read a big spool)
    // is not helped by another one at once: wait longer each time instead of churning.
    const minLifetimeMs = Math.min(MAX_LIFETIME_FOR_RSS_MS, MIN_LIFETIME_FOR_RSS_MS * 2 ** rssStreak);
    const reason = replacementReason({ maxMemoryMb: limits.maxMemoryMb, maxRequests: limits.maxRequests, minLifetimeMs }, beat.rssBytes, beat.requestCount, Date.now() - w.startedAt);
    if (reason === 'max_memory' && ++rssStreak >= 3) {
      log.warn({ rss_mb: Math.round(beat.rssBytes / 1024 / 1024), max_memory_mb: limits.maxMemoryMb, streak: rssStreak }, 'fresh workers keep exceeding lifecycle.maxMemoryMb; consider raising it');
    }
    if (reason) {
      log.info({ worker_pid: w.pid, reason, rss_mb: Math.round(beat.rssBytes / 1024 / 1024), request_count: beat.requestCount }, 'replacing the worker');
      void roll(reason);
    }
  }

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
        await withTimeout(next.ready, o.startTimeoutMs, 'the new worker did not start accepting');
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
    const deadlineMs = 3 * o.config().shutdown.drainMs + 10_000;
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
    startFirst: () => spawn(true),
    current,
    all: () => workers,
    roll,
    async stopAll(drainPath) {
      shuttingDown = true;
      clearInterval(watchdog);
      if (restartTimer) clearTimeout(restartTimer);
      restartTimer = null;
      await Promise.all(workers.map((w) => stopWorker(w, drainPath)));
    },
    killAll() {
      shuttingDown = true;
      clearInterval(watchdog);
      if (restartTimer) clearTimeout(restartTimer);
      for (const w of workers) w.kill();
    },
    facts: () => ({ restarts, restartsByReason: { ...restartsByReason }, crashes, workersAlive: workers.length }),
  };
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
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
