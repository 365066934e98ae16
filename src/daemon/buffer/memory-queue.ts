import type { BufferedQueueOptions } from './buffer-options.js';
import { createQueueSignals } from './queue-signals.js';
import type { Batch, Queue, QueueStats } from './queue.js';
import { createSerialChain } from './serial-chain.js';
import { createSpoolBatches } from './spool-batches.js';

interface Entry {
  bytes: Buffer;
  at: number;
  seq: number;
}

/**
 * memory mode (DESIGN section 3): items live in memory until it holds memoryItems or memoryBytes;
 * a forwarder waiting for a batch takes it then (takeNowAt); if none does before the next item
 * arrives, the whole buffer becomes one atomic spool segment. A SIGKILL loses what is in memory (at
 * most memoryItems, plus one spill that is being written). The forwarder takes spool segments
 * first (the oldest data), then memory.
 */
export function createMemoryQueue(o: BufferedQueueOptions): Queue {
  const now = o.now ?? Date.now;
  const chain = createSerialChain();
  const segments = createSpoolBatches(o.spool, o.busySegments, chain);
  let seq = 0;
  let nextBatchId = 1;
  let memory: Entry[] = [];
  let memoryBytes = 0;
  let spillingItems = 0; // handed to the spool and not yet written: still "in memory"
  let spillingBytes = 0;
  const memoryBatches = new Map<number, Entry[]>(); // taken from memory, not yet acked or released
  let overflowSegments = 0;
  let stopped = false;

  const memoryFull = (): boolean => memory.length >= o.memoryItems || memoryBytes >= o.memoryBytes;
  // memory is full again while the last spill is still being written: ingest pauses
  const congested = (): boolean => spillingItems > 0 && memoryFull();
  const signals = createQueueSignals({
    hasReadable: () => memory.length > 0 || segments.hasReadable(),
    congested,
    waiting: () => {
      const f = segments.inFlight();
      return { items: memory.length + spillingItems + o.spool.totalItems() - f.items, bytes: memoryBytes + spillingBytes + o.spool.totalBytes() - f.bytes };
    },
  });

  /** At most one spill at a time: RAM, and what a SIGKILL can lose, stay at memory plus one spill. */
  function spillIfIdle(): void {
    if (spillingItems === 0) void spillMemory();
  }

  function spillMemory(): Promise<void> {
    if (memory.length === 0) return chain.idle();
    const entries = memory;
    memory = [];
    memoryBytes = 0;
    return spill(entries);
  }

  /** Writes entries as one segment named after the first (oldest) of them, so it sorts in FIFO place. */
  function spill(entries: Entry[]): Promise<void> {
    const bytes = sum(entries);
    spillingItems += entries.length;
    spillingBytes += bytes;
    const first = entries[0] as Entry;
    return chain.run(async () => {
      try {
        const result = await o.spool.write(
          entries.map((e) => e.bytes),
          first.at,
          first.seq,
        );
        if (result.kind === 'written') {
          o.metrics.segmentWritten();
          overflowSegments++;
        } else {
          o.metrics.dropped(result.reason, entries.length);
          o.log.error({ err: result.error, items: entries.length, reason: result.reason }, 'spool refused items; dropped by policy');
        }
      } finally {
        spillingItems -= entries.length;
        spillingBytes -= bytes;
        if (memoryFull()) void spillMemory(); // filled up while we were writing
        signals.relieved();
        signals.readable();
      }
    });
  }

  function takeFromMemory(maxItems: number, maxBytes: number): Batch | null {
    if (memory.length === 0) return null;
    let n = 0;
    let bytes = 0;
    while (n < memory.length && n < maxItems) {
      const len = (memory[n] as Entry).bytes.length;
      if (n > 0 && bytes + len > maxBytes) break;
      bytes += len;
      n++;
    }
    if (n === 0) return null; // asked for nothing
    const entries = memory.splice(0, n);
    memoryBytes -= bytes;
    const id = nextBatchId++;
    memoryBatches.set(id, entries);
    signals.relieved();
    return { id, items: entries.map((e) => e.bytes), bytes, oldestAt: (entries[0] as Entry).at };
  }

  return {
    offer(item, source, onSettled) {
      if (stopped) throw new Error('queue stopped'); // a programming error: ingest stops first
      // Memory filled up and nobody took it since: now it goes to disk, before this item joins.
      // (Filling up wakes a waiting forwarder, which takes the buffer before the next offer.)
      if (memoryFull()) spillIfIdle();
      memory.push({ bytes: item, at: now(), seq: seq++ });
      memoryBytes += item.length;
      o.metrics.accepted(source);
      onSettled?.('accepted');
      signals.readable();
    },

    whenDurable: (cb) => cb(true), // memory mode promises the memory buffer, nothing more

    async take(maxItems, maxBytes) {
      await chain.idle();
      return (await segments.take(maxItems, maxBytes, nextBatchId++)) ?? takeFromMemory(maxItems, maxBytes);
    },

    async ack(batch) {
      if (await segments.ack(batch.id)) return;
      memoryBatches.delete(batch.id);
    },

    release(batch) {
      if (!segments.release(batch.id)) {
        const entries = memoryBatches.get(batch.id);
        if (!entries) return;
        memoryBatches.delete(batch.id);
        if (o.spool.segments().length > 0 || spillingItems > 0) {
          // Newer items overflowed to disk while this batch was out; take() reads disk first, so the
          // batch goes to disk too, under a name that sorts before theirs (its first item is older).
          void spill(entries);
        } else {
          memory = entries.concat(memory); // back to the head: it is the oldest data
          memoryBytes += sum(entries);
          if (memoryFull()) spillIfIdle();
        }
      }
      signals.readable();
    },

    whenReadable: () => signals.whenReadable(),
    whenFilled: (items, bytes) => signals.whenFilled(items, bytes),
    takeNowAt: () => ({ items: o.memoryItems, bytes: o.memoryBytes }),
    congested,
    whenRelieved: (cb) => signals.whenRelieved(cb),

    async flushToSpool() {
      // Batches still in flight at this point were neither acknowledged nor released: keep them.
      // Each goes to its own segment, named after its oldest item, so replay keeps arrival order.
      for (const [id, entries] of memoryBatches) {
        memoryBatches.delete(id);
        void spill(entries);
      }
      await spillMemory();
      await chain.idle();
    },

    stats(): QueueStats {
      let oldest = segments.oldestAt();
      for (const entries of memoryBatches.values()) oldest = Math.min(oldest, (entries[0] as Entry).at);
      if (memory.length > 0) oldest = Math.min(oldest, (memory[0] as Entry).at);
      const f = segments.inFlight();
      return {
        memoryItems: memory.length + spillingItems, // a spill being written is still in memory
        spillingItems,
        memoryBytes: memoryBytes + spillingBytes,
        memoryItemsLimit: o.memoryItems,
        spoolSegments: o.spool.segments().length,
        spoolItems: o.spool.totalItems(),
        spoolBytes: o.spool.totalBytes(),
        spoolBytesLimit: o.spoolMaxBytes,
        oldestItemAgeMs: Number.isFinite(oldest) ? Math.max(0, now() - oldest) : 0,
        overflowSegmentsWritten: overflowSegments,
        inFlightBatches: f.batches + memoryBatches.size,
        inFlightItems: f.items,
        inFlightBytes: f.bytes,
      };
    },

    async stop() {
      await this.flushToSpool();
      stopped = true;
      await chain.run(() => o.spool.close());
    },
  };
}

function sum(entries: readonly Entry[]): number {
  let n = 0;
  for (const e of entries) n += e.bytes.length;
  return n;
}
