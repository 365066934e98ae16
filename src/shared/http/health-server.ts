import { createServer, type Server, type ServerResponse } from 'node:http';
import { parseHostPort } from '../config/parse-host-port.js';

/** `failing` answers 503; the others (`starting` included: docs/daemon.md) 200. */
export type HealthStatus = 'ok' | 'degraded' | 'starting' | 'failing';

export interface HealthServerOptions {
  bind: string;
  report: () => Promise<{ status: HealthStatus; body: Record<string, unknown> }>;
  metrics: () => Promise<{ contentType: string; text: string }>;
}

export interface HealthServer {
  start(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * /health and /metrics on a loopback address (DESIGN sections 6 and 12: the daemon and the pg-agent). Two fixed GET routes for local
 * monitors need no framework: node:http keeps the supervisor ~20 MB lighter than fastify did,
 * and the daemon lives on busy web servers where RSS matters.
 */
export function createHealthServer(o: HealthServerOptions): HealthServer {
  let server: Server | null = null;

  async function route(path: string, res: ServerResponse): Promise<void> {
    if (path === '/health') {
      const { status, body } = await o.report();
      send(res, status === 'failing' ? 503 : 200, 'application/json; charset=utf-8', JSON.stringify(body));
    } else if (path === '/metrics') {
      const m = await o.metrics();
      send(res, 200, m.contentType, m.text);
    } else {
      send(res, 404, 'application/json; charset=utf-8', JSON.stringify({ error: 'not found', routes: ['/health', '/metrics'] }));
    }
  }

  return {
    async start() {
      const { host, port } = parseHostPort(o.bind);
      const srv = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          send(res, 405, 'application/json; charset=utf-8', JSON.stringify({ error: 'method not allowed' }));
          return;
        }
        route(path, res).catch((err: unknown) => {
          send(res, 500, 'application/json; charset=utf-8', JSON.stringify({ status: 'failing', error: (err as Error).message }));
        });
      });
      srv.keepAliveTimeout = 5_000;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(port, host, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      server = srv;
      const addr = srv.address();
      return typeof addr === 'object' && addr !== null ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : o.bind;
    },
    async stop() {
      const srv = server;
      server = null;
      if (!srv) return;
      srv.closeIdleConnections();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}
