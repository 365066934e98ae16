import { fork, type ChildProcess } from 'node:child_process';
import type { Socket as UdpSocket } from 'node:dgram';
import type { DaemonConfig } from '../../shared/config/daemon-config.js';
import type { Logger } from '../../shared/telemetry/logger.js';
import { parseFromWorker, type FromWorker, type ToWorker } from './ipc-messages.js';
import type { BoundUnixSocket } from './listen-sockets.js';
import { workerExecArgv } from './worker-node-flags.js';

export type WorkerState = 'starting' | 'staging' | 'active' | 'stopping' | 'exited';

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WorkerHandle {
  readonly pid: number;
  readonly generation: number;
  readonly startedAt: number;
  state(): WorkerState;
  /** True once stop() was called: an exit 0 after it is planned, not a crash. */
  stopRequested(): boolean;
  /** Resolves when the worker accepts on the shared sockets; rejects if it exits first. */
  readonly ready: Promise<void>;
  /** Resolves when it owns the spool; rejects if it exits first. */
  readonly active: Promise<void>;
  readonly exited: Promise<WorkerExit>;
  /** Last heartbeat: RSS and messages handled. */
  lastHeartbeat(): { rssBytes: number; requestCount: number } | null;
  /** When it last said anything of its own accord (ready, active, a heartbeat; Date.now()), null before that. */
  lastHeardAt(): number | null;
  activate(): void;
  /** A standby starts accepting (resolves `ready` once it does). No-op for a worker that listens. */
  listen(): void;
  /** Started with listen: false and not yet told to listen. */
  isStandby(): boolean;
  /** Asks for a graceful stop; returns `exited`. `drainPath`: see the `stop` message. */
  stop(drainPath?: string): Promise<WorkerExit>;
  kill(): void;
  health(timeoutMs: number): Promise<Extract<FromWorker, { type: 'health' }> | null>;
  metrics(timeoutMs: number): Promise<Extract<FromWorker, { type: 'metrics' }> | null>;
  relayDatagram(msg: Buffer): void;
}

export interface ForkWorkerOptions {
  /** The CLI entry and the arguments that run `runWorker()`. */
  modulePath: string;
  args: string[];
  config: DaemonConfig;
  generation: number;
  unix: BoundUnixSocket;
  udp: UdpSocket | null;
  /** True when no other worker is alive, so the spool is free at once. */
  activate: boolean;
  /** False: a standby that accepts only after listen(). */
  listen: boolean;
  onHeartbeat: (w: WorkerHandle) => void;
  log: Logger;
}

/** Forks one worker and speaks the IPC protocol of ipc-messages.ts with it. */
export function forkWorker(o: ForkWorkerOptions): WorkerHandle {
  const child: ChildProcess = fork(o.modulePath, o.args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
    execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS),
  });
  let state: WorkerState = 'starting';
  let stopRequested = false;
  let standby = !o.listen;
  let heartbeat: { rssBytes: number; requestCount: number } | null = null;
  let heardAt: number | null = null;
  let nextId = 1;
  const waiting = new Map<number, (msg: FromWorker | null) => void>();
  let onReady: () => void = () => undefined;
  let onActive: () => void = () => undefined;
  let failEarly: (err: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    failEarly = reject;
  });
  let failActive: (err: Error) => void = () => undefined;
  const active = new Promise<void>((resolve, reject) => {
    onActive = resolve;
    failActive = reject;
  });
  ready.catch(() => undefined);
  active.catch(() => undefined);

  const exited = new Promise<WorkerExit>((resolve) => {
    child.on('exit', (code, signal) => {
      state = 'exited';
      const err = new Error(`worker ${child.pid} exited (${code ?? signal}) before it was ready`);
      failEarly(err);
      failActive(err);
      for (const w of waiting.values()) w(null);
      waiting.clear();
      resolve({ code, signal });
    });
  });

  function send(msg: ToWorker, handle?: object): void {
    if (!child.connected) return;
    // A send can fail if the worker just died; its 'exit' handles the rest.
    child.send(msg, handle as never, (err) => {
      if (err) o.log.debug({ err, type: msg.type }, 'ipc send to worker failed');
    });
  }

  function ask<T extends 'health' | 'metrics'>(type: T, timeoutMs: number): Promise<Extract<FromWorker, { type: T }> | null> {
    if (state === 'exited' || !child.connected) return Promise.resolve(null);
    const id = nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve(null);
      }, timeoutMs);
      timer.unref();
      waiting.set(id, (msg) => {
        clearTimeout(timer);
        resolve(msg && msg.type === type ? (msg as Extract<FromWorker, { type: T }>) : null);
      });
      send({ type, id });
    });
  }

  const handle: WorkerHandle = {
    pid: child.pid ?? -1,
    generation: o.generation,
    startedAt: Date.now(),
    state: () => state,
    stopRequested: () => stopRequested,
    ready,
    active,
    exited,
    lastHeartbeat: () => heartbeat,
    lastHeardAt: () => heardAt,
    activate() {
      send({ type: 'activate' });
    },
    listen() {
      if (!standby) return;
      standby = false;
      send({ type: 'listen' });
    },
    isStandby: () => standby,
    stop(drainPath) {
      if (!stopRequested && state !== 'exited') {
        state = 'stopping';
        send(drainPath ? { type: 'stop', drainPath } : { type: 'stop' }); // once: a repeated stop would read as "exit now" to the worker
      }
      stopRequested = true;
      return exited;
    },
    kill() {
      if (state !== 'exited') child.kill('SIGKILL');
    },
    health: (timeoutMs) => ask('health', timeoutMs),
    metrics: (timeoutMs) => ask('metrics', timeoutMs),
    relayDatagram(msg) {
      send({ type: 'datagram', base64: msg.toString('base64') });
    },
  };

  child.on('message', (raw: unknown) => {
    const msg = parseFromWorker(raw);
    if (!msg) return;
    if (msg.type === 'ready' || msg.type === 'active') heardAt = Date.now(); // heartbeats follow within 250 ms
    switch (msg.type) {
      case 'ready':
        if (state === 'starting') state = 'staging';
        onReady();
        return;
      case 'active':
        if (state === 'staging' || state === 'starting') state = 'active';
        onActive();
        return;
      case 'heartbeat':
        heartbeat = { rssBytes: msg.rssBytes, requestCount: msg.requestCount };
        heardAt = Date.now();
        o.onHeartbeat(handle);
        return;
      case 'health':
      case 'metrics':
        waiting.get(msg.id)?.(msg);
        waiting.delete(msg.id);
        return;
    }
  });
  child.on('error', (err) => o.log.error({ err, pid: child.pid }, 'worker process error'));

  if (o.udp) send({ type: 'udp-socket' }, o.udp);
  send({ type: 'start', config: o.config, generation: o.generation, socketInode: o.unix.inode, activate: o.activate, listen: o.listen }, o.unix.handle);
  return handle;
}
