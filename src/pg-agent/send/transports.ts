import { connect } from 'node:net';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { hostname } from 'node:os';
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
 * The daemon's Unix socket (DESIGN 2): NDJSON lines on one connection, then close. The daemon
 * has accepted them once it has read them; the connection closing cleanly is the only answer
 * this protocol gives.
 */
export function socketTransport(path: string, timeoutMs: number): Transport {
  return (lines) =>
    new Promise((resolve) => {
      let settled = false;
      const done = (o: TransportOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock.destroy();
        resolve(o);
      };
      const sock = connect(path);
      const timer = setTimeout(() => done({ kind: 'retry', code: 'timeout' }), timeoutMs);
      sock.on('error', (err: NodeJS.ErrnoException) => done({ kind: 'retry', code: err.code ?? 'socket_error' }));
      sock.on('connect', () => {
        sock.end(Buffer.concat(lines.flatMap((l) => [l, NEWLINE])));
      });
      sock.on('close', (hadError) => done(hadError ? { kind: 'retry', code: 'socket_error' } : { kind: 'delivered' }));
      sock.resume(); // the daemon sends nothing back; keep the socket flowing so 'close' fires
    });
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
