import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  url: string;
  /** Lines the listener stored and lines it recognised as already stored, from its 200 answers. */
  totals(): { batches: number; accepted: number; duplicates: number; rejected: number; failed: number };
  setTarget(url: string): void;
  close(): Promise<void>;
}

/**
 * Sits between the daemon and the listener and reads the listener's answers, so the soak run can
 * report how many duplicates the listener filtered (its own counters die with every SIGKILL).
 * A pass-through: it never answers on the listener's behalf; a dead listener is a 502.
 */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  let upstream = new URL(target);
  const t = { batches: 0, accepted: 0, duplicates: 0, rejected: 0, failed: 0 };
  const server: Server = createServer((req, res) => {
    const up = request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (answer: IncomingMessage) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          if (answer.statusCode === 200 && req.url === '/v1/ingest') {
            try {
              const r = JSON.parse(body.toString()) as { accepted: number; duplicates: number; rejected: unknown[] };
              t.batches++;
              t.accepted += r.accepted;
              t.duplicates += r.duplicates;
              t.rejected += r.rejected.length;
            } catch {
              t.failed++;
            }
          } else t.failed++;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(body);
        });
        answer.on('error', () => res.destroy());
      },
    );
    up.on('error', () => {
      t.failed++;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"error":"listener_unreachable"}');
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    totals: () => ({ ...t }),
    setTarget(url) {
      upstream = new URL(url);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
