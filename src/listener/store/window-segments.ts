import { HOUR, MINUTE } from './batch-rollup.js';

export interface Segment {
  res: number;
  from: number;
  to: number;
}

/**
 * A window [from, to) rounded out to whole minutes, read as whole hours from the hourly rollup and
 * the ragged edges from the minute rollup. A 24 h window is then ~24 rows per key plus the edges.
 * Both stores read segments in this order, so floating-point sums add up in the same order.
 */
export function windowSegments(from: number, to: number): Segment[] {
  const f = Math.floor(from / MINUTE) * MINUTE;
  const t = Math.ceil(to / MINUTE) * MINUTE;
  const hf = Math.ceil(f / HOUR) * HOUR;
  const ht = Math.floor(t / HOUR) * HOUR;
  if (hf >= ht) return [{ res: MINUTE, from: f, to: t }];
  const out: Segment[] = [{ res: HOUR, from: hf, to: ht }];
  if (f < hf) out.push({ res: MINUTE, from: f, to: hf });
  if (ht < t) out.push({ res: MINUTE, from: ht, to: t });
  return out;
}

/** Step rounded to whole minutes; hourly rows when the step is whole hours; the window aligned to it. */
export function seriesGrid(from: number, to: number, stepS: number): { step: number; res: number; from: number; to: number } {
  const step = Math.max(MINUTE, Math.round(stepS / MINUTE) * MINUTE);
  const res = step % HOUR === 0 ? HOUR : MINUTE;
  return { step, res, from: Math.floor(from / step) * step, to: Math.ceil(to / step) * step };
}
