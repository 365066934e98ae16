/**
 * Segment file names sort in FIFO order as plain strings (DESIGN section 3):
 * `<13-digit unix ms>-<6-digit counter>-<pid>.ndjson`. The time and counter are those of the
 * segment's first item, so a batch returned to the queue and spooled later still sorts before
 * segments of items accepted after it.
 */
export const SEGMENT_SUFFIX = '.ndjson';
/** Durable mode appends to `<name>.ndjson.open`; it is sealed by a rename when full. */
export const OPEN_SUFFIX = '.ndjson.open';
/** Memory-mode writes go to `<name>.ndjson.tmp` first; leftovers are removed at start. */
export const TEMP_SUFFIX = '.tmp';

const SEGMENT_RE = /^(\d{13})-(\d{6})-(\d+)\.ndjson$/;

export function segmentName(atMs: number, seq: number, pid = process.pid): string {
  return `${String(atMs).padStart(13, '0')}-${String(seq % 1_000_000).padStart(6, '0')}-${pid}${SEGMENT_SUFFIX}`;
}

export function isSegmentName(name: string): boolean {
  return SEGMENT_RE.test(name);
}

/** Unix ms encoded in a segment name (the accept time of its first item). */
export function segmentTime(name: string): number {
  const m = SEGMENT_RE.exec(name.endsWith('.open') ? name.slice(0, -'.open'.length) : name);
  return m ? Number(m[1]) : 0;
}
