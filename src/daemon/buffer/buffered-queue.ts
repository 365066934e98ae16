import type { Logger } from 'pino';
import type { Spool, WriteResult } from '../spool/spool.js';
import { segmentTime } from '../spool/segment-name.js';
import type { BufferMetrics } from './buffer-metrics.js';
import type { Batch, CancellableWait, Queue, QueueStats } from './queue.js';
import { createDurableAppender } from './durable-appender.js';

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

interface Entry {
  bytes: Buffer;
  at: number;
  seq: number;
}

/**
 * A batch out with the forwarder. Segment batches still count in the spool's totals until their
 * ack deletes them (`items`/`bytes`, index sizes), so waitingCounts() subtracts them; memory
 * batches have already left `memory`.
 */
type InFlight = { kind: 'segments'; names: string[]; items: number; bytes: number } | { kind: 'memory'; entries: Entry[] };

/**
 * Memory first, disk overflow (DESIGN section 3).
 *
 * memory mode: items live in `memory` until it holds memoryItems or memoryBytes; then the whole
 * buffer becomes one atomic spool segment. A SIGKILL loses what is in memory (at most
 * memoryItems, plus one spill that is being written).
 *
 * durable mode: items are appended to the open segment before they count as accepted, and
 * fsynced in groups every fsyncMs (durable-appender.ts); the forwarder takes sealed segments only (take() seals the
 * open one when nothing else waits), so an acknowledgement is always "delete whole files".
 *
 * Every spool operation goes through one promise chain, so files are written, sealed and
 * deleted in order and take() sees a consistent picture after awaiting it.
 */
export function createBufferedQueue(o: BufferedQueueOptions): Queue {
  const now = o.now ?? Date.now;
  let seq = 0;
  let memory: Entry[] = [];
  let memoryBytes = 0;
  let spilling = 0; // items handed to the spool and not yet written (memory mode)
  let chain: Promise<unknown> = Promise.resolve();
  let nextBatchId = 1;
  const inFlight = new Map<number, InFlight>();
  const busySegments = o.busySegments;
  let readableWaiters: Array<() => void> = [];
  let reliefWaiters: Array<() => void> = [];
  const fillWaiters = new Set<{ items: number; bytes: number; resolve: () => void }>();
  let inFlightItems = 0; // of segment batches (see InFlight)
  let inFlightBytes = 0;
  let overflowSegments = 0;
  let stopped = false;

  const durable =
    o.mode === 'durable'
      ? createDurableAppender({
          spool: o.spool,
          memoryItems: o.memoryItems,
          memoryBytes: o.memoryBytes,
          fsyncMs: o.fsyncMs,
          serial,
          onWrite,
          onProgress: () => {
            notifyRelief();
            notifyReadable();
          },
          metrics: o.metrics,
          log: o.log,
        })
      : null;

  function serial<T>(task: () => Promise<T>): Promise<T> {
    const run = chain.then(task, task);
    chain = run.catch(() => undefined);
    return run;
  }

  function notifyReadable(): void {
    const waiters = readableWaiters;
    readableWaiters = [];
    for (const w of waiters) w();
    notifyFilled();
  }

  /** Items and bytes that wait to be taken: everything held, minus what is in flight. */
  function waitingCounts(): { items: number; bytes: number } {
    const items = memory.length + spilling + (durable?.waiting() ?? 0) + o.spool.totalItems() - inFlightItems;
    return { items, bytes: memoryBytes + o.spool.totalBytes() - inFlightBytes };
  }

  function notifyFilled(): void {
    if (fillWaiters.size === 0) return;
    const w = waitingCounts();
    for (const f of fillWaiters) {
      if (w.items >= f.items || w.bytes >= f.bytes) {
        fillWaiters.delete(f);
        f.resolve();
      }
    }
  }

  function notifyRelief(): void {
    if (congested()) return;
    const waiters = reliefWaiters;
    reliefWaiters = [];
    for (const w of waiters) w();
  }

  function congested(): boolean {
    // durable: items waiting for the disk count against the memory limits like memory-mode items
    if (durable) return durable.congested();
    return spilling > 0 && memoryFull(); // memory is full again while the last spill is still being written
  }

  function memoryFull(): boolean {
    return memory.length >= o.memoryItems || memoryBytes >= o.memoryBytes;
  }

  /**
   * At most one spill is written at a time; while it is, memory fills up to its limit and ingest
   * pauses (congested). This bounds RAM, and what a SIGKILL can lose, to memory plus one spill.
   */
  function spillIfIdle(): void {
    if (spilling === 0) void spillMemory();
  }

  function hasReadable(): boolean {
    if (memory.length > 0) return true;
    if (o.spool.segments().some((s) => !busySegments.has(s.name))) return true;
    return (o.spool.openSegment()?.items ?? 0) > 0;
  }

  function onWrite(result: WriteResult, items: number): boolean {
    if (result.kind === 'written') {
      o.metrics.segmentWritten();
      return true;
    }
    if (items === 0) return false; // only deferred inbox files: nothing dropped
    o.metrics.dropped(result.reason, items);
    o.log.error({ err: result.error, items, reason: result.reason }, 'spool refused items; dropped by policy');
    return false;
  }

  /** memory mode: move the whole memory buffer into one spool segment. */
  function spillMemory(): Promise<void> {
    if (memory.length === 0) return chain.then(() => undefined);
    const entries = memory;
    memory = [];
    memoryBytes = 0;
    return spill(entries);
  }

  /** Writes entries as one segment named after the first (oldest) of them, so it sorts in FIFO place. */
  function spill(entries: Entry[]): Promise<void> {
    spilling += entries.length;
    const first = entries[0] as Entry;
    return serial(async () => {
      try {
        const result = await o.spool.write(entries.map((e) => e.bytes), first.at, first.seq);
        if (onWrite(result, entries.length)) overflowSegments++;
      } finally {
        spilling -= entries.length;
        if (memoryFull()) void spillMemory(); // filled up while we were writing
        notifyRelief();
        notifyReadable();
      }
    });
  }

  function takeFromSegments(maxItems: number, maxBytes: number): Promise<Batch | null> | null {
    const chosen: string[] = [];
    let items = 0;
    let bytes = 0;
    for (const seg of o.spool.segments()) {
      if (busySegments.has(seg.name)) {
        if (chosen.length > 0) break; // keep each batch a contiguous run of segments
        continue;
      }
      if (chosen.length > 0 && (items + seg.items > maxItems || bytes + seg.bytes > maxBytes)) break;
      chosen.push(seg.name);
      items += seg.items;
      bytes += seg.bytes;
    }
    if (chosen.length === 0) return null;
    for (const name of chosen) busySegments.add(name);
    return (async () => {
      const all: Buffer[] = [];
      try {
        for (const name of chosen) for (const item of await o.spool.read(name)) all.push(item);
      } catch (err) {
        for (const name of chosen) busySegments.delete(name);
        throw err;
      }
      const id = nextBatchId++;
      inFlight.set(id, { kind: 'segments', names: chosen, items, bytes });
      inFlightItems += items;
      inFlightBytes += bytes;
      return { id, items: all, bytes: sum(all), oldestAt: segmentTime(chosen[0] as string) };
    })();
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
    const entries = memory.splice(0, n);
    memoryBytes -= bytes;
    const id = nextBatchId++;
    inFlight.set(id, { kind: 'memory', entries });
    notifyRelief();
    return { id, items: entries.map((e) => e.bytes), bytes, oldestAt: (entries[0] as Entry).at };
  }

  return {
    offer(item, source, onSettled) {
      if (stopped) throw new Error('queue stopped'); // a programming error: ingest stops first
      const entry = { bytes: item, at: now(), seq: seq++ };
      if (durable) {
        durable.offer({ ...entry, source, onSettled });
        return;
      }
      memory.push(entry);
      memoryBytes += item.length;
      o.metrics.accepted(source);
      onSettled?.('accepted');
      if (memoryFull()) spillIfIdle();
      if (memory.length === 1) notifyReadable();
      else notifyFilled();
    },

    async take(maxItems, maxBytes) {
      await chain;
      const fromDisk = takeFromSegments(maxItems, maxBytes);
      if (fromDisk) return fromDisk;
      if (o.mode === 'durable') {
        if ((o.spool.openSegment()?.items ?? 0) === 0) return null;
        await serial(async () => {
          await o.spool.sealOpen();
          o.metrics.segmentWritten();
        });
        return takeFromSegments(maxItems, maxBytes);
      }
      return takeFromMemory(maxItems, maxBytes);
    },

    async ack(batch) {
      const held = inFlight.get(batch.id);
      if (!held) return;
      inFlight.delete(batch.id);
      if (held.kind === 'segments') {
        await serial(async () => {
          try {
            for (const name of held.names) {
              await o.spool.remove(name);
              busySegments.delete(name);
            }
          } finally {
            inFlightItems -= held.items; // they have left the spool's totals now
            inFlightBytes -= held.bytes;
          }
        });
      }
    },

    release(batch) {
      const held = inFlight.get(batch.id);
      if (!held) return;
      inFlight.delete(batch.id);
      if (held.kind === 'segments') {
        for (const name of held.names) busySegments.delete(name);
        inFlightItems -= held.items;
        inFlightBytes -= held.bytes;
      } else if (o.spool.segments().length > 0 || spilling > 0) {
        // Newer items overflowed to disk while this batch was out; take() reads disk first, so the
        // batch goes to disk too, under a name that sorts before theirs (its first item is older).
        void spill(held.entries);
      } else {
        memory = held.entries.concat(memory); // back to the head: it is the oldest data
        memoryBytes += sum(held.entries.map((e) => e.bytes));
        if (memoryFull()) spillIfIdle();
      }
      notifyReadable();
    },

    whenReadable() {
      if (hasReadable()) return Promise.resolve();
      return new Promise((resolve) => readableWaiters.push(resolve));
    },

    whenFilled(items, bytes): CancellableWait {
      const w = waitingCounts();
      if (w.items >= items || w.bytes >= bytes) return { promise: Promise.resolve(), cancel: () => undefined };
      let waiter: { items: number; bytes: number; resolve: () => void } | null = null;
      const promise = new Promise<void>((resolve) => {
        waiter = { items, bytes, resolve };
        fillWaiters.add(waiter);
      });
      return { promise, cancel: () => void (waiter && fillWaiters.delete(waiter)) };
    },

    congested,
    whenRelieved(cb) {
      if (!congested()) cb();
      else reliefWaiters.push(cb);
    },

    async flushToSpool() {
      if (o.mode === 'durable') {
        await durable?.drain();
        await serial(async () => {
          if (o.spool.openSegment()) {
            await o.spool.sealOpen();
            o.metrics.segmentWritten();
          }
        });
        return;
      }
      // Batches still in flight at this point were neither acknowledged nor released: keep them.
      // Each goes to its own segment, named after its oldest item, so replay keeps arrival order.
      for (const [id, held] of inFlight) {
        if (held.kind === 'memory') {
          inFlight.delete(id);
          void spill(held.entries);
        }
      }
      await spillMemory();
      await chain;
    },

    stats(): QueueStats {
      const segments = o.spool.segments();
      const t = now();
      let oldest = Number.POSITIVE_INFINITY;
      if (segments.length > 0) oldest = segmentTime((segments[0] as { name: string }).name);
      for (const held of inFlight.values()) if (held.kind === 'memory') oldest = Math.min(oldest, (held.entries[0] as Entry).at);
      if (memory.length > 0) oldest = Math.min(oldest, (memory[0] as Entry).at);
      const open = o.spool.openSegment();
      if (open && open.items > 0) oldest = Math.min(oldest, open.firstAt); // durable mode: the linger counts from here
      return {
        memoryItems: memory.length + spilling + (durable?.waiting() ?? 0), // a spill being written is still in memory
        spillingItems: spilling,
        memoryBytes,
        memoryItemsLimit: o.memoryItems,
        spoolSegments: segments.length + (open ? 1 : 0),
        spoolItems: o.spool.totalItems(),
        spoolBytes: o.spool.totalBytes(),
        spoolBytesLimit: o.spoolMaxBytes,
        oldestItemAgeMs: Number.isFinite(oldest) ? Math.max(0, t - oldest) : 0,
        overflowSegmentsWritten: overflowSegments,
        inFlightBatches: inFlight.size,
        inFlightItems,
        inFlightBytes,
      };
    },

    async stop() {
      durable?.stop();
      await this.flushToSpool();
      stopped = true;
      await serial(() => o.spool.close());
    },
  };
}

function sum(items: readonly Buffer[]): number {
  let n = 0;
  for (const b of items) n += b.length;
  return n;
}
