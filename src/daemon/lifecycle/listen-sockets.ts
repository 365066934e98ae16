import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { chmod, lstat, mkdir, readdir, rename, unlink } from 'node:fs/promises';
import * as net from 'node:net';
import { basename, dirname, join } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { parseHostPort } from '../../shared/config/parse-host-port.js';

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
  /** The public path clients connect to. */
  path: string;
  /**
   * Moves the socket to its public path. Called once a worker listens on it: a client never finds
   * a socket file that refuses it (issue 9, finding 3); before that it gets ENOENT and uses its inbox.
   */
  publish(): Promise<void>;
  /**
   * Stop, step 1: moves the socket file away from the public path, so new clients fail at once
   * (and use their inbox) while the worker still accepts what the kernel queued. Returns where
   * the socket is now; null if it was never published.
   */
  withdraw(): Promise<string | null>;
  /** Closes the socket and removes its file. */
  close(): Promise<void>;
}

/**
 * Binds the daemon socket under a private name next to `path` (same directory, so publish is an
 * atomic rename), mode 0666 because PHP-FPM runs as another user than the daemon.
 */
export async function bindUnixSocket(path: string): Promise<BoundUnixSocket> {
  await mkdir(dirname(path), { recursive: true });
  await clearStaleSocket(path);
  await removeLeftovers(path);
  const privatePath = `${path}.${process.pid}`;
  const closingPath = `${path}.${process.pid}.closing`;
  await unlink(privatePath).catch(() => undefined);
  const handle = (net as unknown as NetInternals)._createServerHandle(privatePath, -1, -1);
  if (typeof handle === 'number') throw new Error(`cannot bind ${privatePath}: ${getSystemErrorName(handle)}`);
  await chmod(privatePath, 0o666);
  const inode = (await lstat(privatePath)).ino;
  let where: string = privatePath;
  let closed = false;
  return {
    handle,
    inode,
    path,
    async publish() {
      if (where !== privatePath) return;
      await rename(privatePath, path);
      where = path;
    },
    async withdraw() {
      if (where !== path) return null;
      await rename(path, closingPath);
      where = closingPath;
      return closingPath;
    },
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => handle.close(() => resolve()));
      await unlink(where).catch(() => undefined); // libuv only unlinks the name it bound, which we renamed
    },
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
    if (!(await accepts(path))) break; // ECONNREFUSED: left by a crashed run
    if (i + 1 >= attempts) throw new SocketInUseError(path);
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  await unlink(path);
}

export class SocketInUseError extends Error {
  constructor(path: string) {
    super(`another process is already listening on ${path}; refusing to start a second daemon on it`);
    this.name = 'SocketInUseError';
  }
}

/** `daemon.sock.<pid>` and `daemon.sock.<pid>.closing` of daemons that died before cleaning up. */
async function removeLeftovers(path: string): Promise<void> {
  const pattern = new RegExp(`^${escapeRegExp(basename(path))}\\.(\\d+)(\\.closing)?$`);
  for (const name of await readdir(dirname(path)).catch(() => [])) {
    const pid = Number(pattern.exec(name)?.[1] ?? 0);
    if (pid === 0 || pidAlive(pid)) continue;
    await unlink(join(dirname(path), name)).catch(() => undefined);
  }
}

function accepts(path: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const probe = net.createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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
