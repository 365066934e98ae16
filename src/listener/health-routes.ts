import type { FastifyInstance } from 'fastify';
import type { LimitedLog } from '../shared/telemetry/rate-limited-log.js';
import { VERSION } from '../shared/version.js';
import type { IngestService } from './ingest-api/ingest-service.js';
import type { ListenerMetrics } from './metrics.js';
import type { Retention } from './retention.js';
import type { Store } from './store/store.js';

export interface HealthRoutesOptions {
  store: Store;
  storeKind: string;
  service: IngestService;
  retention: Retention;
  metrics: ListenerMetrics;
  logLimited: LimitedLog;
  startedAt: number;
}

/** Unauthenticated: /health (alive), /ready (can take data, with diagnostics), /metrics (Prometheus). */
export function registerHealthRoutes(app: FastifyInstance, o: HealthRoutesOptions): void {
  app.get('/health', async () => ({ status: 'ok', version: VERSION, timestamp: Date.now() / 1000, uptime_seconds: Math.round((Date.now() - o.startedAt) / 1000) }));

  app.get('/ready', async (_req, reply) => {
    let store: { ok: boolean; kind: string; error?: string } = { ok: true, kind: o.storeKind };
    try {
      await o.store.ping();
    } catch (err) {
      // Unauthenticated: the cause goes to the log, the answer names only the code.
      o.logLimited('ready:store_unavailable', { err }, 'store does not answer');
      store = { ok: false, kind: o.storeKind, error: 'store_unavailable' };
    }
    const ready = store.ok;
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not_ready',
      timestamp: Date.now() / 1000,
      checks: { store, retention: o.retention.stats(), ingest: o.service.counters() },
    });
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await o.metrics.registry.metrics();
    return reply.header('Content-Type', o.metrics.registry.contentType).send(text);
  });
}
