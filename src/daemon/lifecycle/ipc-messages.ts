/**
 * Messages between the supervisor and its worker over the fork IPC channel (JSON). Each side
 * parses what it receives once, here, and trusts the type afterwards.
 */

/** Supervisor -> worker. */
export type ToWorker =
  /** Sent with the bound UDP socket as the handle, before `start`, when `udp` is configured. */
  | { type: 'udp-socket' }
  /**
   * Sent with the bound Unix socket handle. `activate`: the spool is free at once (no predecessor).
   * `listen: false`: a standby, built but not accepting until `listen`.
   */
  | { type: 'start'; config: unknown; generation: number; socketInode: number; activate: boolean; listen: boolean }
  /** A standby starts accepting; it answers `ready`. */
  | { type: 'listen' }
  /** The previous worker has exited: recover the spool, start inbox and forwarder. */
  | { type: 'activate' }
  /**
   * Graceful stop: stop accepting, drain, hand back batches, flush memory to the spool, exit 0.
   * `drainPath`: the daemon is stopping and the socket file was moved there; first accept
   * everything the kernel queued (absent for a worker replacement: the successor keeps accepting).
   */
  | { type: 'stop'; drainPath?: string }
  | { type: 'health'; id: number }
  | { type: 'metrics'; id: number }
  /** A datagram that reached the supervisor's copy of the UDP socket. */
  | { type: 'datagram'; base64: string };

/** Worker -> supervisor. */
export type FromWorker =
  /** Accepting on the shared sockets (but maybe not yet owning the spool). */
  | { type: 'ready' }
  /** Owns the spool; inbox and forwarder run. */
  | { type: 'active' }
  | { type: 'heartbeat'; rssBytes: number; requestCount: number }
  | { type: 'health'; id: number; status: 'ok' | 'degraded' | 'starting' | 'failing'; body: Record<string, unknown> }
  | { type: 'metrics'; id: number; contentType: string; text: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function parseToWorker(raw: unknown): ToWorker | null {
  if (!isRecord(raw)) return null;
  switch (raw.type) {
    case 'udp-socket':
    case 'activate':
    case 'listen':
      return { type: raw.type };
    case 'stop':
      return typeof raw.drainPath === 'string' ? { type: 'stop', drainPath: raw.drainPath } : { type: 'stop' };
    case 'start':
      if (!num(raw.generation) || !num(raw.socketInode) || typeof raw.activate !== 'boolean' || typeof raw.listen !== 'boolean') return null;
      return { type: 'start', config: raw.config, generation: raw.generation, socketInode: raw.socketInode, activate: raw.activate, listen: raw.listen };
    case 'health':
    case 'metrics':
      return num(raw.id) ? { type: raw.type, id: raw.id } : null;
    case 'datagram':
      return typeof raw.base64 === 'string' ? { type: 'datagram', base64: raw.base64 } : null;
    default:
      return null;
  }
}

export function parseFromWorker(raw: unknown): FromWorker | null {
  if (!isRecord(raw)) return null;
  switch (raw.type) {
    case 'ready':
    case 'active':
      return { type: raw.type };
    case 'heartbeat':
      return num(raw.rssBytes) && num(raw.requestCount) ? { type: 'heartbeat', rssBytes: raw.rssBytes, requestCount: raw.requestCount } : null;
    case 'health':
      if (!num(raw.id) || !isRecord(raw.body)) return null;
      if (raw.status !== 'ok' && raw.status !== 'degraded' && raw.status !== 'starting' && raw.status !== 'failing') return null;
      return { type: 'health', id: raw.id, status: raw.status, body: raw.body };
    case 'metrics':
      return num(raw.id) && typeof raw.contentType === 'string' && typeof raw.text === 'string'
        ? { type: 'metrics', id: raw.id, contentType: raw.contentType, text: raw.text }
        : null;
    default:
      return null;
  }
}
