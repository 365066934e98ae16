import type { FastifyInstance } from 'fastify';
import type { LimitedLog } from '../shared/telemetry/rate-limited-log.js';
import { VERSION } from '../shared/version.js';
import type { Exporters } from './export/exporters.js';
import type { IngestService } from './ingest-api/ingest-service.js';
import type { ListenerMetrics } from './metrics.js';
import type { Retention } from './retention.js';
import type { Store } from './store/store.js';

export interface HealthRoutesOptions {
  store: Store;
  storeKind: string;
  service: IngestService;
  retention: Retention;
  exporters: Exporters;
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
    // An exporter that is behind or failing does not stop ingest, so it does not make us unready:
    // it is named in `warnings` (and its check) for monitors to alert on.
    const exporters = o.exporters.stats();
    const warnings = Object.values(exporters)
      .filter((e) => e.state === 'behind' || e.state === 'failing')
      .map((e) => `exporter ${e.name} is ${e.state}: ${e.backlog} records not sent${e.last_error ? ` (last error ${e.last_error.code})` : ''}`);
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not_ready',
      timestamp: Date.now() / 1000,
      warnings,
      checks: { store, retention: o.retention.stats(), ingest: o.service.counters(), exporters },
    });
  });

  app.get('/metrics', async (_req, reply) => {
    o.exporters.stats(); // refreshes the backlog gauges
    const text = await o.metrics.registry.metrics();
    return reply.header('Content-Type', o.metrics.registry.contentType).send(text);
  });
}
