import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { hostname } from 'node:os';
import { sendAcked } from '../../shared/client/daemon-client.js';
import { VERSION } from '../../shared/version.js';

const gzipAsync = promisify(gzip);

export type TransportOutcome =
  | { kind: 'delivered' }
  /** Worth retrying later: target down, timeout, 408/429/5xx. */
  | { kind: 'retry'; code: string; afterMs?: number }
  /** The target refused these records for good (a 4xx other than 408/429): retrying cannot help. */
  | { kind: 'rejected'; code: string };

export type Transport = (lines: readonly Buffer[]) => Promise<TransportOutcome>;

/**
 * The daemon's Unix socket (DESIGN 2) with an acknowledged send (shared/client/daemon-client.ts):
 * the records count as delivered only once the daemon answers that they are safe (in its memory
 * buffer, or fsynced in durable mode). No answer in time: they stay in the agent's buffer and go
 * again (the listener drops the duplicates). A daemon too old to answer never acknowledges.
 */
export function socketTransport(path: string, timeoutMs: number): Transport {
  return async (lines) => {
    const r = await sendAcked(path, lines.map((l) => l.toString('utf8')), timeoutMs);
    if (r.kind === 'failed') return { kind: 'retry', code: r.reason };
    // rejected lines are invalid (counted by the daemon); dropped ones its spool policy refused (counted there)
    return r.counts.rejected > 0 && r.counts.accepted === 0 && r.counts.dropped === 0 ? { kind: 'rejected', code: 'daemon_rejected' } : { kind: 'delivered' };
  };
}

const NEWLINE = Buffer.from('\n');

/** POST {url}/v1/ingest, gzip NDJSON with a bearer token (the daemon forwarder's protocol, DESIGN 4). */
export function httpTransport(url: string, token: string, timeoutMs: number): Transport {
  const endpoint = `${url.replace(/\/+$/, '')}/v1/ingest`;
  const agent = `${hostname()}/bitville-pg-agent-${VERSION}`;
  return async (lines) => {
    const body = await gzipAsync(Buffer.concat(lines.flatMap((l) => [l, NEWLINE])));
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip', authorization: `Bearer ${token}`, 'x-bitville-agent': agent },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer();
    } catch (err) {
      return { kind: 'retry', code: (err as Error).name === 'TimeoutError' ? 'timeout' : 'network' };
    }
    if (res.ok) return { kind: 'delivered' };
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      const after = Number(res.headers.get('retry-after'));
      return { kind: 'retry', code: `http_${res.status}`, ...(Number.isFinite(after) && after > 0 ? { afterMs: Math.min(after * 1000, 300_000) } : {}) };
    }
    return { kind: 'rejected', code: `http_${res.status}` };
  };
}
