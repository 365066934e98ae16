import { Counter, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../shared/telemetry/process-metrics.js';

export const METRIC_PREFIX = 'bitville_listener_';

/** Every listener metric, on a registry of its own so two listeners in one process do not collide. */
export interface ListenerMetrics {
  registry: Registry;
  ingestRequests: Counter<'route' | 'status'>;
  accepted: Counter<'kind'>;
  duplicates: Counter;
  rejected: Counter<'error_code'>;
  receivedBytes: Counter;
  rateLimited: Counter;
  inflateBusy: Counter;
  storeErrors: Counter<'operation'>;
  batchSeconds: Histogram;
  querySeconds: Histogram<'route'>;
  retentionDeleted: Counter;
  retentionRuns: Counter<'result'>;
}

export function createListenerMetrics(): ListenerMetrics {
  const registry = new Registry();
  collectProcessMetrics(registry, METRIC_PREFIX);
  const p = METRIC_PREFIX;
  const registers = [registry];
  return {
    registry,
    ingestRequests: new Counter({ name: `${p}ingest_requests_total`, help: 'Ingest requests answered, by route and HTTP status', labelNames: ['route', 'status'], registers }),
    accepted: new Counter({ name: `${p}ingest_accepted_total`, help: 'Items stored (profile or activity)', labelNames: ['kind'], registers }),
    duplicates: new Counter({ name: `${p}ingest_duplicates_total`, help: 'Items already stored: same project, source and correlation id', registers }),
    rejected: new Counter({ name: `${p}ingest_rejected_total`, help: 'Lines rejected, by reason', labelNames: ['error_code'], registers }),
    receivedBytes: new Counter({ name: `${p}ingest_received_bytes_total`, help: 'Request body bytes received as sent (compressed or not)', registers }),
    rateLimited: new Counter({ name: `${p}ingest_rate_limited_total`, help: 'Requests answered 429', registers }),
    inflateBusy: new Counter({ name: `${p}ingest_busy_total`, help: 'Gzip requests answered 503 busy: every inflation slot was taken', registers }),
    storeErrors: new Counter({ name: `${p}store_errors_total`, help: 'Store operations that failed', labelNames: ['operation'], registers }),
    batchSeconds: new Histogram({
      name: `${p}ingest_batch_duration_seconds`,
      help: 'Time to parse and store one ingest request',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    querySeconds: new Histogram({
      name: `${p}query_duration_seconds`,
      help: 'Read API latency by route',
      labelNames: ['route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    retentionDeleted: new Counter({ name: `${p}retention_deleted_rows_total`, help: 'Rows removed by retention', registers }),
    retentionRuns: new Counter({ name: `${p}retention_runs_total`, help: 'Retention runs by result', labelNames: ['result'], registers }),
  };
}
