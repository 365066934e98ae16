import type { DropReason } from '../spool/spool.js';
import type { IngestSource } from './queue.js';

/** What the buffer counts; telemetry/daemon-metrics.ts implements it with prom-client. */
export interface BufferMetrics {
  accepted(source: IngestSource, n?: number): void;
  dropped(reason: DropReason, n: number): void;
  segmentWritten(): void;
  /** One fdatasync of the open durable segment (seals not counted). */
  segmentSynced(): void;
}
