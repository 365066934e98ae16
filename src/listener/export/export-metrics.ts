import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../metrics.js';

/** Exporter metrics on the listener's registry; `exporter` is `gelf` or `otlp` (a closed set). */
export interface ExportMetrics {
  sent: Counter<'exporter'>;
  failed: Counter<'exporter' | 'error_code'>;
  dropped: Counter<'exporter' | 'reason'>;
  resent: Counter<'exporter' | 'reason'>;
  backlog: Gauge<'exporter'>;
  circuitOpen: Gauge<'exporter'>;
  lastSent: Gauge<'exporter'>;
  batchSeconds: Histogram<'exporter'>;
}

export function createExportMetrics(registry: Registry): ExportMetrics {
  const p = `${METRIC_PREFIX}export_`;
  const registers = [registry];
  return {
    sent: new Counter({ name: `${p}sent_records_total`, help: 'Records the receiver confirmed (resends included)', labelNames: ['exporter'], registers }),
    failed: new Counter({ name: `${p}failed_batches_total`, help: 'Batches that failed and will be sent again, by error code', labelNames: ['exporter', 'error_code'], registers }),
    dropped: new Counter({ name: `${p}dropped_records_total`, help: 'Records that will never be exported, by reason', labelNames: ['exporter', 'reason'], registers }),
    resent: new Counter({
      name: `${p}resent_records_total`,
      help: 'Records sent again after an attempt that may have delivered them (possible duplicates at the receiver): after a failed batch (retry) or a restart',
      labelNames: ['exporter', 'reason'],
      registers,
    }),
    backlog: new Gauge({ name: `${p}backlog_records`, help: 'Stored records this exporter has not sent yet', labelNames: ['exporter'], registers }),
    circuitOpen: new Gauge({ name: `${p}circuit_open`, help: '1 while the circuit breaker is open or half-open', labelNames: ['exporter'], registers }),
    lastSent: new Gauge({ name: `${p}last_sent_timestamp_seconds`, help: 'When the receiver last confirmed a batch (unix seconds)', labelNames: ['exporter'], registers }),
    batchSeconds: new Histogram({
      name: `${p}batch_duration_seconds`,
      help: 'Encoding and sending one batch until the receiver confirmed it',
      labelNames: ['exporter'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    }),
  };
}
