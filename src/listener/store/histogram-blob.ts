import type { Histogram } from './duration-buckets.js';

/**
 * A sparse histogram as bytes: (bucket uint16, count uint32) pairs, little endian. One rollup row
 * then holds a whole distribution, so ingest updates one row per key and minute instead of one
 * per bucket, and a 24 h statistics query reads a few thousand rows.
 */
export function encodeCounts(counts: Map<number, number>): Buffer {
  const out = Buffer.allocUnsafe(counts.size * 6);
  let o = 0;
  for (const [b, c] of counts) {
    out.writeUInt16LE(b, o);
    out.writeUInt32LE(Math.min(c, 0xffffffff), o + 2);
    o += 6;
  }
  return out;
}

/** Adds the pairs in `blob` into `into` (bucket -> count). */
export function addEncoded(into: Map<number, number>, blob: Buffer): void {
  for (let o = 0; o + 6 <= blob.length; o += 6) {
    const b = blob.readUInt16LE(o);
    into.set(b, (into.get(b) ?? 0) + blob.readUInt32LE(o + 2));
  }
}

export function addBlobToHistogram(h: Histogram, blob: Buffer, count: number, maxMs: number): void {
  addEncoded(h.counts, blob);
  h.total += count;
  if (maxMs > h.maxMs) h.maxMs = maxMs;
}
