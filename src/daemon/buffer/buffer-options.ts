import type { Logger } from 'pino';
import type { Spool } from '../spool/spool.js';
import type { BufferMetrics } from './buffer-metrics.js';

/** What both queue modes are built from (buffered-queue.ts picks the mode). */
export interface BufferedQueueOptions {
  mode: 'memory' | 'durable';
  memoryItems: number;
  memoryBytes: number;
  fsyncMs: number;
  commitDelayMs: number;
  /** Reported in stats for the 80 % "degraded" rule of /health. */
  spoolMaxBytes: number;
  spool: Spool;
  /** Segment names held by in-flight batches; shared with the spool's quota. */
  busySegments: Set<string>;
  metrics: BufferMetrics;
  log: Logger;
  now?: () => number;
}
