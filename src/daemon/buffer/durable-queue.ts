import type { BufferedQueueOptions } from './buffer-options.js';
import { createDurableAppender } from './durable-appender.js';
import { createQueueSignals } from './queue-signals.js';
import type { Queue, QueueStats } from './queue.js';
import { createSerialChain } from './serial-chain.js';
import { createSpoolBatches } from './spool-batches.js';

/**
 * durable mode (DESIGN section 3): every item is appended to the open segment before it counts
 * as accepted, and fdatasynced every fsyncMs or sooner for whoever asks (durable-appender.ts).
 * The forwarder takes sealed segments only — take() seals the open one when nothing else waits —
 * so an acknowledgement is always "delete whole files", and a SIGKILL loses nothing that was
 * counted as accepted.
 */
export function createDurableQueue(o: BufferedQueueOptions): Queue {
  const now = o.now ?? Date.now;
  const chain = createSerialChain();
  const segments = createSpoolBatches(o.spool, o.busySegments, chain);
  let seq = 0;
  let nextBatchId = 1;
  let stopped = false;

  const appender = createDurableAppender({
    spool: o.spool,
    memoryItems: o.memoryItems,
    memoryBytes: o.memoryBytes,
    fsyncMs: o.fsyncMs,
    commitDelayMs: o.commitDelayMs,
    now,
    serial: (task) => chain.run(task),
    onWrite: (result, items) => {
      if (result.kind === 'written') {
        o.metrics.segmentWritten();
        return true;
      }
      if (items === 0) return false; // only deferred inbox files: nothing dropped
      o.metrics.dropped(result.reason, items);
      o.log.error({ err: result.error, items, reason: result.reason }, 'spool refused items; dropped by policy');
      return false;
    },
    onProgress: () => {
      signals.relieved();
      signals.readable();
    },
    metrics: o.metrics,
    log: o.log,
  });
  // items waiting for the disk count against the memory limits like memory-mode items
  const congested = (): boolean => appender.congested();
  const signals = createQueueSignals({
    hasReadable: () => segments.hasReadable() || (o.spool.openSegment()?.items ?? 0) > 0,
    congested,
    waiting: () => {
      const f = segments.inFlight();
      return { items: appender.waiting() + o.spool.totalItems() - f.items, bytes: appender.waitingBytes() + o.spool.totalBytes() - f.bytes };
    },
  });

  async function sealOpen(): Promise<void> {
    await chain.run(async () => {
      if (!o.spool.openSegment()) return;
      await o.spool.sealOpen();
      o.metrics.segmentWritten();
    });
  }

  return {
    offer(item, source, onSettled) {
      if (stopped) throw new Error('queue stopped'); // a programming error: ingest stops first
      appender.offer({ bytes: item, at: now(), seq: seq++, source, onSettled });
    },

    whenDurable: (cb) => appender.whenDurable(cb),

    async take(maxItems, maxBytes) {
      await chain.idle();
      const sealed = await segments.take(maxItems, maxBytes, nextBatchId++);
      if (sealed || (o.spool.openSegment()?.items ?? 0) === 0) return sealed;
      await sealOpen();
      return segments.take(maxItems, maxBytes, nextBatchId++);
    },

    async ack(batch) {
      await segments.ack(batch.id);
    },

    release(batch) {
      if (segments.release(batch.id)) signals.readable();
    },

    whenReadable: () => signals.whenReadable(),
    whenFilled: (items, bytes) => signals.whenFilled(items, bytes),
    // A segment's worth goes at once to an idle forwarder, as memory mode's full buffer does. Waiting
    // for a 500-item batch kept five 1 MB segment reads alive past the young generation: the
    // worker ran ~13 full GCs per 20,000 profiles instead of 2-3, at ~20 MB more RSS (docs/benchmarks.md).
    takeNowAt: () => ({ items: o.memoryItems, bytes: o.memoryBytes }),
    congested,
    whenRelieved: (cb) => signals.whenRelieved(cb),

    async flushToSpool() {
      await appender.drain();
      await sealOpen();
    },

    stats(): QueueStats {
      let oldest = segments.oldestAt();
      const open = o.spool.openSegment();
      if (open && open.items > 0) oldest = Math.min(oldest, open.firstAt); // the linger counts from here
      const f = segments.inFlight();
      return {
        memoryItems: appender.waiting(),
        spillingItems: 0,
        memoryBytes: appender.waitingBytes(),
        memoryItemsLimit: o.memoryItems,
        spoolSegments: o.spool.segments().length + (open ? 1 : 0),
        spoolItems: o.spool.totalItems(),
        spoolBytes: o.spool.totalBytes(),
        spoolBytesLimit: o.spoolMaxBytes,
        oldestItemAgeMs: Number.isFinite(oldest) ? Math.max(0, now() - oldest) : 0,
        overflowSegmentsWritten: 0,
        inFlightBatches: f.batches,
        inFlightItems: f.items,
        inFlightBytes: f.bytes,
      };
    },

    async stop() {
      appender.stop();
      await this.flushToSpool();
      stopped = true;
      await chain.run(() => o.spool.close());
    },
  };
}
