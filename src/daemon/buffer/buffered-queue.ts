import type { BufferedQueueOptions } from './buffer-options.js';
import { createDurableQueue } from './durable-queue.js';
import { createMemoryQueue } from './memory-queue.js';
import type { Queue } from './queue.js';

export type { BufferedQueueOptions } from './buffer-options.js';

/**
 * Memory first, disk overflow (DESIGN section 3), in one of two modes: memory-queue.ts (fast; a
 * SIGKILL loses the memory buffer) or durable-queue.ts (append and group fsync before an item
 * counts). Both hand out spool segments through spool-batches.ts and signal through
 * queue-signals.ts; every spool operation of a queue runs in one chain (serial-chain.ts).
 */
export function createBufferedQueue(o: BufferedQueueOptions): Queue {
  return o.mode === 'durable' ? createDurableQueue(o) : createMemoryQueue(o);
}
