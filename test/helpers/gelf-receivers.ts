import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';

/** A GELF receiver written for the tests, as Graylog's inputs behave. */
export interface GelfReceiver {
  port: number;
  /** Messages in arrival order, duplicates included. */
  messages(): Record<string, unknown>[];
  /** `_correlation_id` of every message in arrival order. */
  ids(): string[];
  /** Stops listening and drops open connections / the socket (what a crashed Graylog does). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/**
 * GELF TCP (or TLS with `tls`): NUL-delimited JSON frames; a frame that is not JSON fails the test
 * run loudly via `errors`. Closes its side when the sender closes (as Graylog's netty input does).
 */
export async function startGelfTcpReceiver(options: { tls?: TlsOptions; host?: string } = {}): Promise<GelfReceiver & { errors: string[] }> {
  const received: Record<string, unknown>[] = [];
  const errors: string[] = [];
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const onConnection = (socket: Socket): void => {
    sockets.add(socket);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (let nul = pending.indexOf(0); nul !== -1; nul = pending.indexOf(0)) {
        const frame = pending.subarray(0, nul).toString('utf8');
        pending = pending.subarray(nul + 1);
        try {
          received.push(JSON.parse(frame) as Record<string, unknown>);
        } catch {
          errors.push(frame.slice(0, 200));
        }
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  };
  async function listen(onPort: number): Promise<void> {
    const s = options.tls ? createTlsServer(options.tls, onConnection) : createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(onPort, options.host ?? '127.0.0.1', () => resolve());
    });
    server = s;
    port = (s.address() as AddressInfo).port;
  }
  async function down(): Promise<void> {
    const s = server;
    if (!s) return;
    server = null;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of sockets) socket.resetAndDestroy();
    await closed;
  }
  await listen(0);
  return {
    get port() {
      return port;
    },
    errors,
    messages: () => received,
    ids: () => received.map((m) => String(m._correlation_id)),
    down,
    up: () => listen(port),
    close: down,
  };
}

/**
 * GELF UDP: single datagrams or chunks (0x1e 0x0f, 8-byte id, seq, count) reassembled in order,
 * then gzip or zlib inflated by their magic bytes, or taken as plain JSON.
 */
export async function startGelfUdpReceiver(): Promise<GelfReceiver & { errors: string[]; chunkedMessages(): number }> {
  const received: Record<string, unknown>[] = [];
  const errors: string[] = [];
  const partial = new Map<string, { count: number; parts: Map<number, Buffer> }>();
  let chunked = 0;
  let socket: UdpSocket | null = null;
  let port = 0;
  const decode = (bytes: Buffer): void => {
    try {
      const text = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes[0] === 0x78 ? inflateSync(bytes) : bytes;
      received.push(JSON.parse(text.toString('utf8')) as Record<string, unknown>);
    } catch (err) {
      errors.push((err as Error).message);
    }
  };
  const onMessage = (d: Buffer): void => {
    if (d[0] !== 0x1e || d[1] !== 0x0f) return decode(d);
    const id = d.subarray(2, 10).toString('hex');
    const seq = d[10] as number;
    const count = d[11] as number;
    const entry = partial.get(id) ?? { count, parts: new Map<number, Buffer>() };
    entry.parts.set(seq, Buffer.from(d.subarray(12)));
    partial.set(id, entry);
    if (entry.parts.size === entry.count) {
      partial.delete(id);
      chunked++;
      decode(Buffer.concat(Array.from({ length: entry.count }, (_, i) => entry.parts.get(i) as Buffer)));
    }
  };
  async function listen(onPort: number): Promise<void> {
    // A large receive buffer, as Graylog's UDP input has (recv_buffer_size): bursts of datagrams
    // beyond the kernel's 208 KiB default are dropped by the receiving kernel, unseen by any sender.
    const s = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    s.on('message', onMessage);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(onPort, '127.0.0.1', () => resolve());
    });
    socket = s;
    port = s.address().port;
  }
  async function down(): Promise<void> {
    const s = socket;
    if (!s) return;
    socket = null;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  await listen(0);
  return {
    get port() {
      return port;
    },
    errors,
    chunkedMessages: () => chunked,
    messages: () => received,
    ids: () => received.map((m) => String(m._correlation_id)),
    down,
    up: () => listen(port),
    close: down,
  };
}
