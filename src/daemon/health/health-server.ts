import Fastify, { type FastifyInstance } from 'fastify';
import { parseHostPort } from '../../shared/config/host-port.js';
import type { HealthStatus } from './health-report.js';

export interface HealthServerOptions {
  bind: string;
  report: () => Promise<{ status: HealthStatus; body: Record<string, unknown> }>;
  metrics: () => Promise<{ contentType: string; text: string }>;
}

export interface HealthServer {
  start(): Promise<string>;
  stop(): Promise<void>;
}

/** /health and /metrics on a loopback address (DESIGN section 6). */
export function createHealthServer(o: HealthServerOptions): HealthServer {
  let app: FastifyInstance | null = null;
  return {
    async start() {
      const { host, port } = parseHostPort(o.bind);
      const a = Fastify({ logger: false });
      a.get('/health', async (_req, reply) => {
        const { status, body } = await o.report();
        return reply.code(status === 'failing' ? 503 : 200).send(body);
      });
      a.get('/metrics', async (_req, reply) => {
        const m = await o.metrics();
        return reply.type(m.contentType).send(m.text);
      });
      await a.listen({ host, port });
      app = a;
      const addr = a.server.address();
      return typeof addr === 'object' && addr !== null ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : o.bind;
    },
    async stop() {
      await app?.close();
      app = null;
    },
  };
}
