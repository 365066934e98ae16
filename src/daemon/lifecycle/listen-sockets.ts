import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { chmod, lstat, mkdir } from 'node:fs/promises';
import * as net from 'node:net';
import { dirname } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { parseHostPort } from '../../shared/config/parse-host-port.js';
import { clearStaleSocket } from '../ingest/unix-socket.js';

/**
 * Node's own cluster module binds a server handle in the primary and lets workers listen on it
 * (`net._createServerHandle`). We do the same: the supervisor binds but never accepts, so every
 * connection goes to a worker, and the socket (with its kernel accept queue) outlives any worker.
 */
interface NetInternals {
  _createServerHandle(address: string, port: number, addressType: number): PipeHandle | number;
}

interface PipeHandle {
  close(cb?: () => void): void;
}

export interface BoundUnixSocket {
  /** The bound handle, passed to each worker over IPC. */
  handle: object;
  /** Inode of the socket file, so /health can tell when the path was deleted or replaced. */
  inode: number;
  path: string;
  /** Closes the socket and removes its file. */
  close(): Promise<void>;
}

export async function bindUnixSocket(path: string): Promise<BoundUnixSocket> {
  await mkdir(dirname(path), { recursive: true });
  await clearStaleSocket(path);
  const handle = (net as unknown as NetInternals)._createServerHandle(path, -1, -1);
  if (typeof handle === 'number') throw new Error(`cannot bind ${path}: ${getSystemErrorName(handle)}`);
  await chmod(path, 0o666); // PHP-FPM runs as another user than the daemon
  const inode = (await lstat(path)).ino;
  let closed = false;
  return {
    handle,
    inode,
    path,
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise((resolve) => handle.close(() => resolve())); // libuv unlinks the path it bound
    },
  };
}

/** Binds the UDP socket the workers share. Datagrams that reach this copy go to `onMessage`. */
export async function bindUdpSocket(bind: string, onMessage: (msg: Buffer) => void): Promise<UdpSocket> {
  const { host, port } = parseHostPort(bind);
  const s = createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', recvBufferSize: 8 * 1024 * 1024 });
  s.on('message', onMessage);
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, host, () => {
      s.off('error', reject);
      resolve();
    });
  });
  s.on('error', () => undefined); // per-datagram errors (ICMP) are not fatal for a receive-only socket
  return s;
}

export function udpAddress(s: UdpSocket): string {
  const a = s.address();
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
