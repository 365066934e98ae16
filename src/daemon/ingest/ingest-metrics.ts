import type { RejectCode } from '../../shared/protocol/reject-codes.js';
import type { IngestSource } from '../buffer/queue.js';

/** Why a connection was closed by us rather than by the client. A closed set of label values. */
export type CloseReason = 'idle_timeout' | 'too_many_connections' | 'shutdown';

/** What the ingest stage counts; telemetry/daemon-metrics.ts implements it with prom-client. */
export interface IngestMetrics {
  rejected(code: RejectCode): void;
  quarantined(kind: 'message_sample' | 'segment' | 'inbox_file', n?: number): void;
  defaultsFilled(): void;
  connectionOpened(): void;
  connectionEnded(): void;
  connectionClosed(reason: CloseReason): void;
  receivedBytes(source: IngestSource, n: number): void;
  inboxFile(outcome: 'accepted' | 'rejected' | 'dropped' | 'deferred'): void;
}
