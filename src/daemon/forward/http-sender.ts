import http from 'node:http';
import https from 'node:https';
import { hostname } from 'node:os';
import { VERSION } from '../../shared/version.js';
import { parseRetryAfter } from './backoff.js';
import { encodeBatch, type BodyEncoding } from './batch-body.js';
import type { ForwardErrorCode, SendOutcome } from './send-outcome.js';

/** Most response bytes kept for quarantine and logs; the rest is read and dropped. */
const MAX_BODY_BYTES = 64 * 1024;

export interface HttpSenderOptions extends BodyEncoding {
  /** Listener base URL; batches go to `{url}/v1/ingest`. */
  url: string;
  token: string;
  /** Time allowed to open the TCP connection. Default 2000 ms. */
  connectTimeoutMs: number;
  /** Time allowed from connection to the complete answer. Default 5000 ms. */
  timeoutMs: number;
  /** Sockets kept for keep-alive; the forwarder's concurrency. */
  maxSockets: number;
  now?: () => number;
}

export interface HttpSender {
  /** POSTs one batch as NDJSON (gzip unless compression is none). Never throws: every failure is a SendOutcome. */
  send(items: readonly Buffer[], signal?: AbortSignal): Promise<SendOutcome>;
  /** POSTs a body that encodeBatch made with this sender's encoding (it may still be encoding). Never throws. */
  post(body: Promise<readonly Buffer[]>, signal?: AbortSignal): Promise<SendOutcome>;
  close(): void;
}

export function createHttpSender(o: HttpSenderOptions): HttpSender {
  const now = o.now ?? Date.now;
  const target = new URL('v1/ingest', o.url.endsWith('/') ? o.url : `${o.url}/`);
  const secure = target.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: o.maxSockets })
    : new http.Agent({ keepAlive: true, maxSockets: o.maxSockets });
  const request = secure ? https.request : http.request;
  const agentHeader = `${hostname()}/${VERSION}`;

  function post(parts: readonly Buffer[], signal: AbortSignal | undefined): Promise<SendOutcome> {
    let length = 0;
    for (const p of parts) length += p.length;
    return new Promise((resolve) => {
      let settled = false;
      let requestTimer: NodeJS.Timeout | undefined;
      const finish = (outcome: SendOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearTimeout(requestTimer);
        signal?.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const fail = (code: ForwardErrorCode, detail: string): void => {
        finish({ kind: 'retry', code, detail });
        req.destroy();
      };
      const onAbort = (): void => fail('aborted', 'stopped while the batch was in flight');

      const req = request(target, {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/x-ndjson',
          ...(o.compression === 'gzip' ? { 'Content-Encoding': 'gzip' } : {}),
          'Content-Length': length,
          Authorization: `Bearer ${o.token}`,
          'X-Bitville-Agent': agentHeader,
        },
      });
      const startRequestTimer = (): void => {
        clearTimeout(connectTimer);
        requestTimer ??= setTimeout(() => fail('timeout', `no answer within ${o.timeoutMs} ms`), o.timeoutMs);
      };
      const connectTimer = setTimeout(() => fail('connect_timeout', `no connection within ${o.connectTimeoutMs} ms`), o.connectTimeoutMs);
      req.on('socket', (socket) => {
        if (socket.connecting) socket.once('connect', startRequestTimer);
        else startRequestTimer(); // a kept-alive socket
      });
      req.on('error', (err: NodeJS.ErrnoException) => finish({ kind: 'retry', code: networkCode(err), detail: err.code ?? err.message }));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < MAX_BODY_BYTES) {
            chunks.push(chunk);
            kept += chunk.length;
          }
        });
        res.on('error', (err: NodeJS.ErrnoException) => finish({ kind: 'retry', code: networkCode(err), detail: err.code ?? err.message }));
        res.on('close', () => {
          if (!res.complete) finish({ kind: 'retry', code: 'reset', detail: 'answer cut short' });
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
          finish(classify(status, text, header(res.headers['retry-after']), length, now()));
        });
      });
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      req.cork(); // one writev for all the parts
      for (const p of parts) req.write(p);
      req.end();
    });
  }

  async function postEncoded(body: Promise<readonly Buffer[]>, signal: AbortSignal | undefined): Promise<SendOutcome> {
    try {
      return await post(await body, signal);
    } catch (err) {
      return { kind: 'retry', code: 'other', detail: err instanceof Error ? err.message : String(err) };
    }
  }

  return {
    send: (items, signal) => postEncoded(encodeBatch(items, o), signal),
    post: postEncoded,
    close() {
      agent.destroy();
    },
  };
}

/** DESIGN section 4: any 2xx acknowledges; 408/429/5xx retry; other 4xx are permanent. */
export function classify(status: number, body: string, retryAfter: string | undefined, wireBytes: number, now: number): SendOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status, wireBytes };
  const afterMs = status === 429 || status === 503 ? parseRetryAfter(retryAfter, now) : undefined;
  const detail = `HTTP ${status}`;
  if (status === 429) return withAfter({ kind: 'retry', code: 'http_429', status, detail }, afterMs);
  if (status === 408) return { kind: 'retry', code: 'http_408', status, detail };
  if (status >= 400 && status < 500) return { kind: 'quarantine', code: 'http_4xx', status, body };
  if (status >= 500) return withAfter({ kind: 'retry', code: 'http_5xx', status, detail }, afterMs);
  return { kind: 'retry', code: 'other', status, detail }; // 1xx/3xx: not an answer we understand
}

function withAfter(outcome: SendOutcome & { kind: 'retry' }, afterMs: number | undefined): SendOutcome {
  return afterMs === undefined ? outcome : { ...outcome, afterMs };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function networkCode(err: NodeJS.ErrnoException): ForwardErrorCode {
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'connect';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return err.message === 'socket hang up' ? 'reset' : 'other';
  }
}
