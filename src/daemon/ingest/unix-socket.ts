import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Queue } from '../buffer/queue.js';
import type { DaemonMetrics } from '../health/metrics.js';
import type { Intake } from './intake.js';
import { createLineSplitter } from './line-splitter.js';

export interface UnixSocketOptions {
  path: string;
  maxConnections: number;
  maxMessageBytes: number;
  idleTimeoutMs: number;
  intake: Intake;
  queue: Queue;
  metrics: DaemonMetrics;
  /**
   * A socket the supervisor bound and passed over IPC (DESIGN section 5). When set, start()
   * listens on it instead of creating `path`, and stop() closes only this process's copy: the
   * supervisor keeps the socket, so clients queue in the kernel backlog while workers change.
   */
  shared?: { handle: object; inode: number };
}

export interface UnixSocketSource {
  start(): Promise<void>;
  /** Stops accepting, lets open connections finish for up to drainMs, then closes the rest. */
  stop(drainMs: number): Promise<void>;
  /** Live check: our server is listening and the path still names our socket. */
  listening(): Promise<boolean>;
  activeConnections(): number;
}

/** Kernel accept queue: PHP-FPM pools connect all at once during a spike. Capped by net.core.somaxconn. */
const LISTEN_BACKLOG = 4096;

export class SocketInUseError extends Error {
  constructor(path: string) {
    super(`another process is already listening on ${path}; refusing to start a second daemon on it`);
    this.name = 'SocketInUseError';
  }
}

interface Connection {
  /** Close it ourselves (idle, shutdown), keeping its last line only if it is whole. */
  close: () => void;
  lastActiveAt: number;
}

export function createUnixSocketSource(o: UnixSocketOptions): UnixSocketSource {
  const sockets = new Map<Socket, Connection>();
  let server: Server | null = null;
  let idleSweep: NodeJS.Timeout | null = null;
  let inode = -1;
  let paused = false;

  function pauseAll(): void {
    if (paused) return;
    paused = true;
    for (const s of sockets.keys()) s.pause();
    o.queue.whenRelieved(() => {
      paused = false;
      const now = Date.now();
      for (const [s, c] of sockets) {
        c.lastActiveAt = now; // the pause was ours; the idle clock restarts
        s.resume();
      }
    });
  }

  /**
   * One timer for all connections instead of socket.setTimeout on each: a PHP-FPM burst opens
   * thousands of short connections, and a per-socket timer is re-armed on every read.
   */
  function sweepIdle(): void {
    if (paused) return; // not idle: we stopped reading them
    const cutoff = Date.now() - o.idleTimeoutMs;
    for (const c of sockets.values()) {
      if (c.lastActiveAt < cutoff) {
        o.metrics.connectionClosed('idle_timeout');
        c.close();
      }
    }
  }

  function onConnection(socket: Socket): void {
    const conn: Connection = { close: closeByUs, lastActiveAt: Date.now() };
    sockets.set(socket, conn);
    o.metrics.connectionOpened();
    if (paused) socket.pause();
    let closedByUs = false;
    const splitter = createLineSplitter({
      maxBytes: o.maxMessageBytes,
      onLine: (line) => {
        o.intake.handle(line, 'unix');
        if (o.queue.congested()) pauseAll();
      },
      onOversized: (sample) => o.intake.reject('oversized', sample, 'unix'),
    });
    socket.on('data', (chunk: Buffer) => {
      conn.lastActiveAt = Date.now();
      o.metrics.receivedBytes('unix', chunk.length);
      splitter.push(chunk);
    });
    // The peer closed: a last line without newline still counts if it parses. (allowHalfOpen is
    // off, so Node ends our side by itself.)
    socket.on('end', () => splitter.end());
    socket.on('error', () => undefined); // resets from clients that gave up are normal; 'close' follows
    socket.on('close', () => {
      sockets.delete(socket);
      o.metrics.connectionEnded();
    });

    function closeByUs(): void {
      if (closedByUs) return;
      closedByUs = true;
      const partial = splitter.takePartial();
      // We cut the client off mid-line: keep the line only if it is already a whole message.
      if (partial) o.intake.handle(partial, 'unix', undefined, 'incomplete');
      socket.destroy();
    }
  }

  return {
    async start() {
      idleSweep = setInterval(sweepIdle, Math.max(50, Math.min(1_000, o.idleTimeoutMs / 4)));
      idleSweep.unref();
      const srv = createServer({ pauseOnConnect: false }, onConnection);
      srv.maxConnections = o.maxConnections;
      srv.on('drop', () => o.metrics.connectionClosed('too_many_connections'));
      if (o.shared) {
        const shared = o.shared;
        await new Promise<void>((resolve, reject) => {
          srv.once('error', reject);
          // listen() on an already bound socket: the kernel keeps one accept queue for every holder
          srv.listen(shared.handle, LISTEN_BACKLOG, () => {
            srv.off('error', reject);
            resolve();
          });
        });
        inode = shared.inode;
        server = srv;
        return;
      }
      await mkdir(dirname(o.path), { recursive: true });
      await clearStaleSocket(o.path);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen({ path: o.path, backlog: LISTEN_BACKLOG }, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      await chmod(o.path, 0o666); // PHP-FPM runs as another user than the daemon
      inode = (await lstat(o.path)).ino;
      server = srv;
    },

    async stop(drainMs) {
      const srv = server;
      if (!srv) return;
      server = null;
      const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
      const deadline = Date.now() + drainMs;
      while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const c of sockets.values()) {
        o.metrics.connectionClosed('shutdown');
        c.close();
      }
      if (idleSweep) clearInterval(idleSweep);
      await closed;
    },

    async listening() {
      if (!server?.listening) return false;
      try {
        const st = await lstat(o.path);
        return st.isSocket() && st.ino === inode; // deleted or replaced: clients can no longer reach us
      } catch {
        return false;
      }
    },

    activeConnections: () => sockets.size,
  };
}

/**
 * Removes a socket file left by a crashed run; refuses when something still accepts on it.
 * A process that was just SIGKILLed may hold the socket for a moment, so a live answer is
 * checked a few times before it counts.
 */
export async function clearStaleSocket(path: string, attempts = 5, pauseMs = 100): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  for (let i = 0; ; i++) {
    const alive = await new Promise<boolean>((resolve) => {
      const probe = createConnection(path);
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false)); // ECONNREFUSED: left by a crashed run
    });
    if (!alive) break;
    if (i + 1 >= attempts) throw new SocketInUseError(path);
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  await unlink(path);
}
