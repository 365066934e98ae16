import type { Socket } from 'node:dgram';
import type { IngestMetrics } from './ingest-metrics.js';
import type { Intake } from './intake.js';

export interface UdpSource {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** "host:port" actually bound (port 0 resolved), or null when not bound. */
  address(): string | null;
  /** One datagram read elsewhere (the supervisor relays those that reached its copy of the socket). */
  receive(msg: Buffer): void;
}

export interface UdpSourceOptions {
  maxMessageBytes: number;
  intake: Intake;
  metrics: IngestMetrics;
  /** The socket the supervisor bound and passed over IPC (lifecycle/listen-sockets.ts). */
  shared: Socket;
}

/** One JSON object per datagram (DESIGN section 2). Off unless `udp` is configured. */
export function createUdpSource(o: UdpSourceOptions): UdpSource {
  let socket: Socket | null = null;
  function receive(msg: Buffer): void {
    o.metrics.receivedBytes('udp', msg.length);
    if (msg.length > o.maxMessageBytes) o.intake.reject('oversized', msg, 'udp');
    else o.intake.handle(msg, 'udp');
  }
  return {
    async start() {
      o.shared.on('message', receive);
      o.shared.on('error', () => undefined); // per-datagram errors (e.g. ICMP) are not fatal for a receive-only socket
      socket = o.shared;
    },
    async stop() {
      const s = socket;
      socket = null;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    receive,
    address() {
      if (!socket) return null;
      const a = socket.address();
      return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    },
  };
}
