import { randomUUID } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { sentinelLine } from '../../shared/protocol/control-lines.js';
import type { Queue } from '../buffer/queue.js';
import type { IngestMetrics } from './ingest-metrics.js';
import { handleConnection, type Connection } from './connection.js';
import { createIngestGate } from './ingest-gate.js';
import type { Intake } from './intake.js';

export interface UnixSocketOptions {
  /** The public socket path, for the live check. */
  path: string;
  /**
   * The socket the supervisor bound and passed over IPC (DESIGN section 5): we listen on it, and
   * stop() closes only this process's copy, so clients queue in the kernel backlog while workers change.
   */
  shared: { handle: object; inode: number };
  maxConnections: number;
  maxMessageBytes: number;
  idleTimeoutMs: number;
  intake: Intake;
  queue: Queue;
  metrics: IngestMetrics;
  now?: () => number;
}

export interface UnixSocketSource {
  start(): Promise<void>;
  /**
   * Stops accepting, lets open connections finish for up to drainMs, then closes the rest.
   * `drainPath`: the daemon is stopping and the supervisor has moved the socket file there (new
   * clients fail fast and use their inbox): first accept every connection the kernel already queued.
   */
  stop(drainMs: number, drainPath?: string): Promise<void>;
  /** Stops accepting new connections (the successor takes the queue); open ones carry on. */
  stopAccepting(): void;
  /** Live check: our server is listening and the path still names our socket. */
  listening(): Promise<boolean>;
  activeConnections(): number;
  /** Connections waiting for their turn while the queue is congested. */
  waitingConnections(): number;
}

/** Kernel accept queue: PHP-FPM pools connect all at once during a spike. Capped by net.core.somaxconn. */
const LISTEN_BACKLOG = 4096;

export function createUnixSocketSource(o: UnixSocketOptions): UnixSocketSource {
  const now = o.now ?? Date.now;
  const connections = new Map<Socket, Connection>();
  const gate = createIngestGate(o.queue);
  const sentinels = new Map<string, () => void>();
  let server: Server | null = null;
  let idleSweep: NodeJS.Timeout | null = null;
  let handingOver = false;

  /**
   * One timer for all connections instead of socket.setTimeout on each: a PHP-FPM burst opens
   * thousands of short connections, and a per-socket timer is re-armed on every read. It keeps
   * running while the queue is congested: only connections that wait for us are spared.
   */
  function sweepIdle(): void {
    const cutoff = now() - o.idleTimeoutMs;
    for (const c of connections.values()) {
      if (c.lastActiveAt() < cutoff && !c.waitingForUs()) {
        o.metrics.connectionClosed('idle_timeout');
        c.close();
      }
    }
  }

  function onConnection(socket: Socket): void {
    const conn = handleConnection(socket, {
      maxMessageBytes: o.maxMessageBytes,
      intake: o.intake,
      gate,
      metrics: o.metrics,
      onSentinel: (nonce) => sentinels.get(nonce)?.(),
      whenDurable: (cb) => o.queue.whenDurable(cb),
      now,
    });
    connections.set(socket, conn);
    o.metrics.connectionOpened();
    socket.on('close', () => {
      connections.delete(socket);
      o.metrics.connectionEnded();
    });
  }

  /**
   * The kernel's accept queue is FIFO: once our own probe connection comes out of it, every client
   * that connected before the socket file was moved has been accepted, and none is left to be
   * dropped with the socket. (Bounded by drainMs: a probe that another worker accepted is not seen.)
   */
  async function acceptBacklog(drainPath: string, drainMs: number): Promise<void> {
    const nonce = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const probe = createConnection(drainPath);
    probe.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      sentinels.set(nonce, resolve);
      timer = setTimeout(resolve, drainMs);
      probe.once('error', () => resolve()); // nothing listens there: nothing can be queued either
      probe.write(sentinelLine(nonce));
    });
    clearTimeout(timer);
    sentinels.delete(nonce);
    probe.destroy();
  }

  return {
    async start() {
      idleSweep = setInterval(sweepIdle, Math.max(50, Math.min(1_000, o.idleTimeoutMs / 4)));
      idleSweep.unref();
      const srv = createServer({ pauseOnConnect: false, allowHalfOpen: true }, onConnection);
      srv.maxConnections = o.maxConnections;
      srv.on('drop', () => o.metrics.connectionClosed('too_many_connections'));
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        // listen() on an already bound socket: the kernel keeps one accept queue for every holder
        srv.listen(o.shared.handle, LISTEN_BACKLOG, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      server = srv;
    },

    async stop(drainMs, drainPath) {
      const srv = server;
      if (!srv) return;
      if (drainPath && srv.listening) await acceptBacklog(drainPath, drainMs);
      server = null;
      const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
      const deadline = now() + drainMs;
      while (connections.size > 0 && now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const c of connections.values()) {
        o.metrics.connectionClosed('shutdown');
        c.close();
      }
      if (idleSweep) clearInterval(idleSweep);
      await closed;
    },

    stopAccepting() {
      handingOver = true;
      server?.close();
    },

    async listening() {
      // After stopAccepting the socket still listens: the kernel queues clients for the successor.
      if (!server?.listening && !handingOver) return false;
      try {
        const st = await lstat(o.path);
        return st.isSocket() && st.ino === o.shared.inode; // deleted or replaced: clients can no longer reach us
      } catch {
        return false;
      }
    },

    activeConnections: () => connections.size,
    waitingConnections: () => gate.waiting(),
  };
}
