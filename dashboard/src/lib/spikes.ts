import type { SeriesPoint } from './api';

/**
 * Minutes that stand out: request count or p95 well above the window's typical minute. "Typical"
 * is the median of the non-empty minutes, so one huge minute cannot hide itself by raising a mean.
 * A minute is a spike when its count is ≥ 3× and ≥ 5 above the median count, or its p95 is ≥ 5×
 * the median p95 (with at least 3 requests, so a single slow request is not a "load spike"). 5×,
 * not 3×: one slower endpoint passing through a quiet minute easily triples that minute's p95.
 */
export function findSpikes(points: readonly SeriesPoint[]): Set<number> {
  const busy = points.filter((p) => p.count > 0);
  const spikes = new Set<number>();
  if (busy.length < 3) return spikes;
  const medCount = median(busy.map((p) => p.count));
  const medP95 = median(busy.flatMap((p) => (p.p95_ms === null ? [] : [p.p95_ms])));
  for (const p of busy) {
    const loud = p.count >= 3 * medCount && p.count - medCount >= 5;
    const slow = p.count >= 3 && p.p95_ms !== null && medP95 > 0 && p.p95_ms >= 5 * medP95;
    if (loud || slow) spikes.add(p.t);
  }
  return spikes;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}
