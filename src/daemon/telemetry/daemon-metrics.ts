import { Counter, Gauge, Registry } from 'prom-client';
import { collectProcessMetrics } from '../../shared/telemetry/process-metrics.js';
import type { BufferMetrics } from '../buffer/buffer-metrics.js';
import type { IngestSource, QueueStats } from '../buffer/queue.js';
import type { CloseReason, IngestMetrics } from '../ingest/ingest-metrics.js';
import type { DropReason } from '../spool/spool.js';
import type { RejectCode } from '../../shared/protocol/reject-codes.js';

const P = 'bitville_daemon_';
const SOURCES: readonly IngestSource[] = ['unix', 'udp', 'inbox'];

/**
 * Every daemon counter, in one Prometheus registry. /health reads the same counters, so the two
 * can never disagree. Hot-path counts are plain numbers until read (see below). Each stage sees only its
 * own small interface (IngestMetrics, BufferMetrics); this module sits below the stages and
 * imports nothing but their types.
 */
export function createDaemonMetrics(): DaemonMetrics {
  // Counted per message or per read as plain numbers, and handed to prom-client when the registry
  // is read (collect: /metrics, /health): a prom-client inc() costs a label lookup and a hash.
  const acceptedBy: Record<IngestSource, number> = { unix: 0, udp: 0, inbox: 0 };
  const receivedBytesBy: Record<IngestSource, number> = { unix: 0, udp: 0, inbox: 0 };
  let connectionsOpened = 0;
  let connectionsActive = 0;
  const registry = new Registry();
  /** A counter by source whose counts wait in `pending` until the registry is read. */
  const countedBySource = (name: string, help: string, pending: Record<IngestSource, number>): Counter =>
    new Counter({
      name,
      help,
      labelNames: ['source'],
      registers: [registry],
      collect() {
        for (const source of SOURCES) {
          if (pending[source] === 0) continue;
          this.labels(source).inc(pending[source]);
          pending[source] = 0;
        }
      },
    });

  collectProcessMetrics(registry, P);
  const accepted = countedBySource(`${P}ingest_accepted_total`, 'Messages accepted into the buffer', acceptedBy);
  const rejected = new Counter({ name: `${P}ingest_rejected_total`, help: 'Messages rejected, by reason', labelNames: ['error_code'], registers: [registry] });
  const defaultsFilled = new Counter({ name: `${P}ingest_defaults_filled_total`, help: 'Accepted messages that lacked correlation_id or project', registers: [registry] });
  const connections = new Counter({
    name: `${P}ingest_connections_total`,
    help: 'Client connections accepted',
    registers: [registry],
    collect() {
      this.inc(connectionsOpened);
      connectionsOpened = 0;
    },
  });
  const closed = new Counter({ name: `${P}ingest_connections_closed_total`, help: 'Connections closed by the daemon, by reason', labelNames: ['reason'], registers: [registry] });
  const activeConnections = new Gauge({
    name: `${P}ingest_connections_active`,
    help: 'Open client connections',
    registers: [registry],
    collect() {
      this.set(connectionsActive);
    },
  });
  countedBySource(`${P}ingest_received_bytes_total`, 'Bytes read from clients', receivedBytesBy);
  const dropped = new Counter({ name: `${P}dropped_events_total`, help: 'Items dropped by an explicit policy, by reason', labelNames: ['reason'], registers: [registry] });
  const segmentsWritten = new Counter({ name: `${P}spool_segments_written_total`, help: 'Spool segments written (memory overflow, shutdown flush, durable seal)', registers: [registry] });
  const segmentsSynced = new Counter({
    name: `${P}spool_fsyncs_total`,
    help: 'fdatasyncs of the open durable segment: for acknowledged sends, inbox files and the buffer.fsyncMs timer (seals not counted)',
    registers: [registry],
  });
  const quarantined = new Counter({ name: `${P}quarantined_total`, help: 'Things moved to quarantine/, by kind', labelNames: ['kind'], registers: [registry] });
  const recovered = new Counter({ name: `${P}spool_recovered_items_total`, help: 'Items found in the spool at start', registers: [registry] });
  const spoolReadErrors = new Counter({ name: `${P}spool_read_errors_total`, help: 'Spool segments the forwarder could not read (a disk problem; retried)', registers: [registry] });
  const inboxFiles = new Counter({ name: `${P}inbox_files_total`, help: 'Inbox files processed, by outcome', labelNames: ['outcome'], registers: [registry] });

  const queueGauges = {
    memoryItems: new Gauge({ name: `${P}buffer_memory_items`, help: 'Items in the memory buffer', registers: [registry] }),
    memoryBytes: new Gauge({ name: `${P}buffer_memory_bytes`, help: 'Bytes in the memory buffer', registers: [registry] }),
    spoolItems: new Gauge({ name: `${P}spool_items`, help: 'Items waiting in spool segments', registers: [registry] }),
    spoolBytes: new Gauge({ name: `${P}spool_bytes`, help: 'Bytes of spool segments on disk', registers: [registry] }),
    spoolSegments: new Gauge({ name: `${P}spool_segments`, help: 'Spool segment files', registers: [registry] }),
    oldestAge: new Gauge({ name: `${P}buffer_oldest_item_age_seconds`, help: 'Age of the oldest waiting item', registers: [registry] }),
  };

  let lastDropAt = 0;
  return {
    registry,
    accepted: (source: IngestSource, n = 1) => {
      acceptedBy[source] += n;
    },
    rejected: (code: RejectCode) => rejected.inc({ error_code: code }),
    defaultsFilled: () => defaultsFilled.inc(),
    connectionOpened: () => {
      connectionsOpened++;
      connectionsActive++;
    },
    connectionEnded: () => {
      connectionsActive--;
    },
    connectionClosed: (reason: CloseReason) => closed.inc({ reason }),
    receivedBytes: (source: IngestSource, n: number) => {
      receivedBytesBy[source] += n;
    },
    dropped: (reason: DropReason, n: number) => {
      dropped.inc({ reason }, n);
      lastDropAt = Date.now();
    },
    /** Unix ms of the latest drop, 0 if none: /health is degraded while drops are recent. */
    lastDropAt: () => lastDropAt,
    segmentWritten: () => segmentsWritten.inc(),
    segmentSynced: () => segmentsSynced.inc(),
    spoolReadFailed: () => spoolReadErrors.inc(),
    quarantined: (kind: 'message_sample' | 'segment' | 'inbox_file', n = 1) => quarantined.inc({ kind }, n),
    recovered: (n: number) => recovered.inc(n),
    inboxFile: (outcome: 'accepted' | 'rejected' | 'dropped' | 'deferred') => inboxFiles.inc({ outcome }),
    setQueueStats(s: QueueStats) {
      queueGauges.memoryItems.set(s.memoryItems);
      queueGauges.memoryBytes.set(s.memoryBytes);
      queueGauges.spoolItems.set(s.spoolItems);
      queueGauges.spoolBytes.set(s.spoolBytes);
      queueGauges.spoolSegments.set(s.spoolSegments);
      queueGauges.oldestAge.set(s.oldestItemAgeMs / 1000);
    },
    /** Current values by label, for /health. */
    async snapshot() {
      const byLabel = async (c: Counter | Gauge, label: string) => {
        const out: Record<string, number> = {};
        for (const v of (await c.get()).values) {
          const key = v.labels[label];
          out[key === undefined ? 'total' : String(key)] = v.value;
        }
        return out;
      };
      const total = async (c: Counter | Gauge) => (await c.get()).values.reduce((n, v) => n + v.value, 0);
      return {
        accepted: await byLabel(accepted, 'source'),
        acceptedTotal: await total(accepted),
        rejected: await byLabel(rejected, 'error_code'),
        rejectedTotal: await total(rejected),
        defaultsFilled: await total(defaultsFilled),
        connections: await total(connections),
        activeConnections: await total(activeConnections),
        closed: await byLabel(closed, 'reason'),
        dropped: await byLabel(dropped, 'reason'),
        segmentsWritten: await total(segmentsWritten),
        quarantined: await byLabel(quarantined, 'kind'),
        recovered: await total(recovered),
        inboxFiles: await byLabel(inboxFiles, 'outcome'),
      };
    },
  };
}

export interface MetricsSnapshot {
  accepted: Record<string, number>;
  acceptedTotal: number;
  rejected: Record<string, number>;
  rejectedTotal: number;
  defaultsFilled: number;
  connections: number;
  activeConnections: number;
  closed: Record<string, number>;
  dropped: Record<string, number>;
  segmentsWritten: number;
  quarantined: Record<string, number>;
  recovered: number;
  inboxFiles: Record<string, number>;
}

export interface DaemonMetrics extends IngestMetrics, BufferMetrics {
  registry: Registry;
  recovered(n: number): void;
  spoolReadFailed(): void;
  /** Unix ms of the latest drop, 0 if none: /health is degraded while drops are recent. */
  lastDropAt(): number;
  setQueueStats(s: QueueStats): void;
  /** Current values by label, for /health. */
  snapshot(): Promise<MetricsSnapshot>;
}

// CloseReason stays importable from here for callers that count closes.
export type { CloseReason };
