import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * A real HTTP listener on port 0 that can fail in every way the forwarder must survive
 * (DESIGN section 4). Reused by the forwarder unit tests and the e2e tests.
 */
export type ListenerMode =
  /** 200 {accepted, duplicates, rejected: []}; the items are stored. */
  | { kind: 'ok' }
  /** Answer with this status (and Retry-After seconds / body); nothing is stored. */
  | { kind: 'status'; status: number; retryAfterS?: number; body?: string }
  /** Cut the connection before reading the body; nothing is stored. */
  | { kind: 'reset' }
  /** Store the items, then cut the connection: the answer is lost, so the batch comes again. */
  | { kind: 'reset_after_store' }
  /** Accept the request and never answer (until close() or the client gives up). Nothing stored. */
  | { kind: 'hang' }
  /** Store the items, answer 200 after delayMs (lost if the client gave up meanwhile). */
  | { kind: 'slow'; delayMs: number };

/** A fixed mode, or one chosen per request (`n` counts requests from 0). */
export type ModeChooser = ListenerMode | ((n: number) => ListenerMode);

export interface ReceivedRequest {
  n: number;
  mode: ListenerMode['kind'];
  headers: IncomingMessage['headers'];
  /** Items stored from this request (empty when the mode stores nothing). */
  items: Record<string, unknown>[];
  /** True once a 2xx answer was written to a live connection; false if it was lost. */
  answered: boolean;
}

export interface TestListener {
  url: string;
  port: number;
  /** Stored items in arrival order, duplicates included. */
  received(): Record<string, unknown>[];
  /** correlation_id of stored items, first occurrence order, each once. */
  uniqueIds(): string[];
  /** correlation_id of stored items, all occurrences. */
  allIds(): string[];
  /** Every request that reached the handler, in order. */
  log(): readonly ReceivedRequest[];
  /** Requests that reached the handler so far (GET /ready not included). */
  requests(): number;
  /** GET /ready answered so far. */
  readyChecks(): number;
  /** TCP connections accepted so far. */
  connections(): number;
  setMode(mode: ModeChooser): void;
  /** Stops listening (clients get ECONNREFUSED) and cuts open connections. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export interface TestListenerOptions {
  mode?: ModeChooser;
  /** When set, any other bearer token gets 401. */
  token?: string;
}

export async function startTestListener(options: TestListenerOptions = {}): Promise<TestListener> {
  let chooser: ModeChooser = options.mode ?? { kind: 'ok' };
  const log: ReceivedRequest[] = [];
  let requestCount = 0;
  let readyChecks = 0;
  let connectionCount = 0;
  let server: Server | null = null;
  let port = 0;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'GET' && req.url === '/ready') {
      // The listener's readiness (the forwarder polls it while it waits): the current mode's answer, not counted as a request.
      const current = typeof chooser === 'function' ? chooser(requestCount) : chooser;
      readyChecks++;
      if (current.kind === 'hang') return;
      if (current.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(current.kind === 'status' ? current.status : 200, { 'content-type': 'application/json' }).end('{"status":"ready"}');
      return;
    }
    const n = requestCount++;
    const mode = typeof chooser === 'function' ? chooser(n) : chooser;
    const entry: ReceivedRequest = { n, mode: mode.kind, headers: req.headers, items: [], answered: false };
    log.push(entry);
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    if (mode.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const store = (): void => {
        entry.items = parse(Buffer.concat(chunks), req.headers['content-encoding']);
      };
      const answerOk = (): void => {
        if (res.socket === null || res.socket.destroyed) return; // the client gave up: answer lost
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ accepted: entry.items.length, duplicates: 0, rejected: [] }), () => {
          entry.answered = true;
        });
      };
      switch (mode.kind) {
        case 'ok':
          store();
          answerOk();
          return;
        case 'status': {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (mode.retryAfterS !== undefined) headers['retry-after'] = String(mode.retryAfterS);
          res.writeHead(mode.status, headers).end(mode.body ?? JSON.stringify({ error: `status ${mode.status}` }));
          return;
        }
        case 'reset_after_store':
          store();
          req.socket.destroy();
          return;
        case 'hang':
          return;
        case 'slow': {
          store();
          const timer = setTimeout(answerOk, mode.delayMs);
          res.on('close', () => clearTimeout(timer));
          return;
        }
      }
    });
  }

  async function listen(onPort: number): Promise<void> {
    const s = createServer(handle);
    s.keepAliveTimeout = 30_000; // longer than any test: no server-side keep-alive races
    s.on('connection', () => connectionCount++);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(onPort, '127.0.0.1', () => resolve());
    });
    server = s;
    port = (s.address() as AddressInfo).port;
  }

  async function stopServer(): Promise<void> {
    const s = server;
    if (!s) return;
    server = null;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
    await closed;
  }

  await listen(0);
  const stored = (): Record<string, unknown>[] => log.flatMap((r) => r.items);
  const idOf = (item: Record<string, unknown>): string => String(item.correlation_id);
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    received: stored,
    allIds: () => stored().map(idOf),
    uniqueIds() {
      const seen = new Set<string>();
      for (const item of stored()) seen.add(idOf(item));
      return [...seen];
    },
    log: () => log,
    requests: () => requestCount,
    readyChecks: () => readyChecks,
    connections: () => connectionCount,
    setMode(mode) {
      chooser = mode;
    },
    down: stopServer,
    up: () => listen(port),
    close: stopServer,
  };
}

function parse(body: Buffer, encoding: string | string[] | undefined): Record<string, unknown>[] {
  const text = (encoding === 'gzip' ? gunzipSync(body) : body).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
