import type { Logger } from 'pino';
import type { Spool } from '../spool/spool.js';
import type { BufferMetrics } from './buffer-metrics.js';
import { createDurableQueue } from './durable-queue.js';
import { createMemoryQueue } from './memory-queue.js';
import type { Queue } from './queue.js';

export interface BufferedQueueOptions {
  mode: 'memory' | 'durable';
  memoryItems: number;
  memoryBytes: number;
  fsyncMs: number;
  /** Reported in stats for the 80 % "degraded" rule of /health. */
  spoolMaxBytes: number;
  spool: Spool;
  /** Segment names held by in-flight batches; shared with the spool's quota. */
  busySegments: Set<string>;
  metrics: BufferMetrics;
  log: Logger;
  now?: () => number;
}

/**
 * Memory first, disk overflow (DESIGN section 3), in one of two modes: memory-queue.ts (fast; a
 * SIGKILL loses the memory buffer) or durable-queue.ts (append and group fsync before an item
 * counts). Both hand out spool segments through spool-batches.ts and signal through
 * queue-signals.ts; every spool operation of a queue runs in one chain (serial-chain.ts).
 */
export function createBufferedQueue(o: BufferedQueueOptions): Queue {
  return o.mode === 'durable' ? createDurableQueue(o) : createMemoryQueue(o);
}
