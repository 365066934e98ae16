import { segmentTime } from '../spool/segment-name.js';
import type { Spool } from '../spool/spool.js';
import type { Batch } from './queue.js';
import type { SerialChain } from './serial-chain.js';

export interface SpoolBatches {
  /**
   * The oldest sealed segments not in flight, as one contiguous run within the limits (the first
   * is always taken whole); null when there is none. Rejects when a segment cannot be read.
   */
  take(maxItems: number, maxBytes: number, id: number): Promise<Batch | null>;
  /** Delivered: deletes its segments (in the chain). False when the batch is not a spool batch. */
  ack(id: number): Promise<boolean>;
  /** Not delivered: its segments may be taken again. False when the batch is not a spool batch. */
  release(id: number): boolean;
  /** A sealed segment that is not in flight exists. */
  hasReadable(): boolean;
  /** Items and bytes (index sizes) of segments in flight: still in the spool's totals until acked. */
  inFlight(): { batches: number; items: number; bytes: number };
  /** Accept time of the oldest sealed segment's first item, or +Infinity. */
  oldestAt(): number;
}

/**
 * What both buffer modes share: batches made of whole spool segments, and their take, ack and
 * release. A segment is deleted only after the listener acknowledged every item in it (DESIGN
 * section 3); while a batch is out its segments are `busy`, so the quota does not delete them.
 */
export function createSpoolBatches(spool: Spool, busy: Set<string>, chain: SerialChain): SpoolBatches {
  // each segment with the index sizes it had once read (a read may salvage and shrink it)
  const out = new Map<number, { name: string; items: number; bytes: number }[]>();
  let items = 0;
  let bytes = 0;

  return {
    async take(maxItems, maxBytes, id) {
      const chosen: string[] = [];
      let n = 0;
      let b = 0;
      for (const seg of spool.segments()) {
        if (busy.has(seg.name)) {
          if (chosen.length > 0) break; // keep each batch a contiguous run of segments
          continue;
        }
        if (chosen.length > 0 && (n + seg.items > maxItems || b + seg.bytes > maxBytes)) break;
        chosen.push(seg.name);
        n += seg.items;
        b += seg.bytes;
      }
      if (chosen.length === 0) return null;
      for (const name of chosen) busy.add(name);
      const all: Buffer[] = [];
      try {
        for (const name of chosen) for (const item of await spool.read(name)) all.push(item);
      } catch (err) {
        for (const name of chosen) busy.delete(name);
        throw err;
      }
      const held = chosen.map((name) => {
        const info = spool.segments().find((s) => s.name === name);
        return { name, items: info?.items ?? 0, bytes: info?.bytes ?? 0 };
      });
      out.set(id, held);
      for (const seg of held) {
        items += seg.items;
        bytes += seg.bytes;
      }
      let sum = 0;
      for (const item of all) sum += item.length;
      return { id, items: all, bytes: sum, oldestAt: segmentTime(chosen[0] as string) };
    },

    async ack(id) {
      const held = out.get(id);
      if (!held) return false;
      out.delete(id);
      await chain.run(async () => {
        let i = 0;
        try {
          for (; i < held.length; i++) {
            const seg = held[i] as (typeof held)[number];
            // remove() takes the segment out of the spool's totals at once (see Spool.remove), and
            // we take it out of in-flight in the same step: "held minus in flight" (what the
            // forwarder waits for) must never dip below what is really waiting, not even while
            // the unlink runs, or a second lane would see items that are not there.
            const removal = spool.remove(seg.name);
            items -= seg.items;
            bytes -= seg.bytes;
            busy.delete(seg.name);
            await removal;
          }
        } finally {
          // segments not removed after a failed delete: no longer in flight, so they are sent again
          for (const seg of held.slice(i + 1)) {
            items -= seg.items;
            bytes -= seg.bytes;
            busy.delete(seg.name);
          }
        }
      });
      return true;
    },

    release(id) {
      const held = out.get(id);
      if (!held) return false;
      out.delete(id);
      for (const seg of held) {
        busy.delete(seg.name);
        items -= seg.items;
        bytes -= seg.bytes;
      }
      return true;
    },

    hasReadable: () => spool.segments().some((s) => !busy.has(s.name)),
    inFlight: () => ({ batches: out.size, items, bytes }),
    oldestAt() {
      const first = spool.segments()[0];
      return first ? segmentTime(first.name) : Number.POSITIVE_INFINITY;
    },
  };
}
