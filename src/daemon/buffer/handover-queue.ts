import { ONLY_FULL_BATCHES, type Batch, type CancellableWait, type IngestSource, type OnSettled, type Queue, type QueueStats } from './queue.js';

export interface HandoverQueueOptions {
  /** Most items held before activation; more pause the sockets (clients wait, nobody is refused). */
  maxItems: number;
  /** Most bytes held before activation. */
  maxBytes: number;
  /** Reported in stats while holding (the spool's quota). */
  spoolMaxBytes: number;
  now?: () => number;
}

export interface HandoverQueue extends Queue {
  /** Offers everything held so far to `real`, in arrival order, and delegates to it from now on. */
  activate(real: Queue): void;
  active(): boolean;
}

interface Held {
  item: Buffer;
  source: IngestSource;
  onSettled: OnSettled | undefined;
  at: number;
}

/**
 * The queue of a worker that accepts before it may touch the spool ("Worker restarts" in
 * docs/daemon.md): the new worker listens at once, but its predecessor still owns the spool
 * until it has exited. Until then items wait here, in memory and bounded; nothing is counted as
 * accepted before the real queue takes it.
 */
export function createHandoverQueue(o: HandoverQueueOptions): HandoverQueue {
  const now = o.now ?? Date.now;
  let held: Held[] = [];
  let heldBytes = 0;
  let real: Queue | null = null;
  let reliefWaiters: Array<() => void> = [];
  let readableWaiters: Array<() => void> = [];

  const full = (): boolean => held.length >= o.maxItems || heldBytes >= o.maxBytes;

  return {
    activate(q) {
      if (real) return;
      real = q;
      const items = held;
      held = [];
      heldBytes = 0;
      for (const h of items) q.offer(h.item, h.source, h.onSettled);
      const relief = reliefWaiters;
      reliefWaiters = [];
      for (const cb of relief) q.whenRelieved(cb);
      const readable = readableWaiters;
      readableWaiters = [];
      for (const cb of readable) void q.whenReadable().then(cb);
    },
    active: () => real !== null,

    offer(item, source, onSettled) {
      if (real) return real.offer(item, source, onSettled);
      held.push({ item, source, onSettled, at: now() });
      heldBytes += item.length;
    },
    whenDurable(cb) {
      if (real) real.whenDurable(cb);
      else cb(true); // nothing is settled as accepted before activation: there is nothing to make safe
    },
    async take(maxItems, maxBytes): Promise<Batch | null> {
      return real ? real.take(maxItems, maxBytes) : null;
    },
    async ack(batch) {
      await real?.ack(batch);
    },
    release(batch) {
      real?.release(batch);
    },
    whenReadable() {
      if (real) return real.whenReadable();
      return new Promise((resolve) => readableWaiters.push(resolve));
    },
    whenFilled(items, bytes): CancellableWait {
      if (real) return real.whenFilled(items, bytes);
      // Nothing can be taken before activation; the forwarder starts only after it anyway.
      return { promise: new Promise(() => undefined), cancel: () => undefined };
    },
    takeNowAt: () => (real ? real.takeNowAt() : ONLY_FULL_BATCHES),
    congested: () => (real ? real.congested() : full()),
    whenRelieved(cb) {
      if (real) real.whenRelieved(cb);
      else if (!full()) cb();
      else reliefWaiters.push(cb);
    },
    async flushToSpool() {
      if (!real) throw new Error('handover queue: flushToSpool before activation'); // callers await activation first
      await real.flushToSpool();
    },
    stats(): QueueStats {
      if (real) return real.stats();
      const first = held[0];
      return {
        memoryItems: held.length,
        spillingItems: 0,
        memoryBytes: heldBytes,
        memoryItemsLimit: o.maxItems,
        spoolSegments: 0,
        spoolItems: 0,
        spoolBytes: 0,
        spoolBytesLimit: o.spoolMaxBytes,
        oldestItemAgeMs: first ? Math.max(0, now() - first.at) : 0,
        overflowSegmentsWritten: 0,
        inFlightBatches: 0,
        inFlightItems: 0,
        inFlightBytes: 0,
      };
    },
    async stop() {
      if (!real) throw new Error('handover queue: stop before activation');
      await real.stop();
    },
  };
}
