import { createSocket, type Socket } from 'node:dgram';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { LimitedLog } from '../../shared/telemetry/rate-limited-log.js';
import type { ListenerMetrics } from '../metrics.js';
import type { ProjectScope } from '../store/store.js';
import type { IngestService } from './ingest-service.js';
import { parseObject, type ParsedLine } from './parse-lines.js';

export interface UdpIngestOptions {
  host: string;
  port: number;
  /** Datagrams must carry it in `_secret` unless the sender is in allowFrom; null = allowlist only. */
  secret: string | null;
  allowFrom: readonly string[];
  projects: ProjectScope;
  service: IngestService;
  metrics: ListenerMetrics;
  logLimited: LimitedLog;
  /** Flush a partial batch this long after its first datagram. Default 200 ms. */
  flushIntervalMs?: number;
  /** Most datagrams per stored batch. Default 500. */
  batchItems?: number;
}

export interface UdpIngest {
  start(): Promise<{ host: string; port: number }>;
  stop(): Promise<void>;
}

const SECRET_FIELD = '_secret';

/**
 * One JSON object per datagram (DESIGN 2), off by default. UDP has no token, so a sender proves
 * itself with a shared secret field (removed before storing) or by its address. Datagrams are
 * batched into one store transaction every flush interval.
 */
export function createUdpIngest(o: UdpIngestOptions): UdpIngest {
  const secret = o.secret === null ? null : createHash('sha256').update(o.secret).digest();
  const allow = new Set(o.allowFrom);
  const principal = { id: 'udp', scope: o.projects };
  const flushMs = o.flushIntervalMs ?? 200;
  const batchItems = o.batchItems ?? 500;
  let socket: Socket | null = null;
  let queue: ParsedLine[] = [];
  let timer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> = Promise.resolve();

  function reject(code: string): void {
    o.metrics.rejected.inc({ error_code: code });
    o.logLimited(`udp:${code}`, { transport: 'udp' }, `udp datagram rejected: ${code}`);
  }

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    const lines = queue;
    queue = [];
    if (lines.length === 0) return;
    flushing = flushing.then(async () => {
      const outcome = await o.service.ingest(principal, lines);
      if (outcome.kind === 'unavailable') o.logLimited('udp:store_unavailable', { dropped: lines.length }, 'udp batch dropped: store unavailable');
    });
  }

  function onMessage(msg: Buffer, from: { address: string }): void {
    const parsed = parseObject(msg); // depth checked before JSON.parse, correlation_id length after
    if (parsed.kind === 'rejected') return reject(parsed.error);
    const value = parsed.value;
    let bytes = msg;
    if (SECRET_FIELD in value) {
      const given = value[SECRET_FIELD];
      delete value[SECRET_FIELD];
      bytes = Buffer.from(JSON.stringify(value));
      if (!allow.has(from.address) && !(secret && typeof given === 'string' && timingSafeEqual(secret, createHash('sha256').update(given).digest()))) return reject('bad_secret');
    } else if (!allow.has(from.address)) return reject('not_allowed');
    queue.push({ kind: 'object', line: 1, value, bytes });
    if (queue.length >= batchItems) flush();
    else if (!timer) timer = setTimeout(flush, flushMs);
  }

  return {
    start() {
      return new Promise((resolve, reject) => {
        const s = createSocket(o.host.includes(':') ? 'udp6' : 'udp4');
        socket = s;
        s.once('error', reject);
        s.on('message', onMessage);
        s.bind(o.port, o.host, () => {
          s.off('error', reject);
          s.on('error', (err) => o.logLimited('udp:socket', { err }, 'udp socket error'));
          const a = s.address();
          resolve({ host: a.address, port: a.port });
        });
      });
    },
    async stop() {
      flush();
      await flushing.catch(() => undefined);
      const s = socket;
      socket = null;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}
