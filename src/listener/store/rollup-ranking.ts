import { emptyHistogram, percentile, round, type Histogram } from './duration-buckets.js';
import type { StatsKind, StatsRow } from './store.js';

/** One key's sums over a window, from its rollup rows. */
export interface KeyTotals {
  h: Histogram;
  total: number;
  errors: number;
  calls: number;
  self: number;
  selfCount: number;
}

export interface RollupScalars {
  total_ms: number;
  errors: number;
  calls: number;
  self_ms: number;
  self_count: number;
}

export function totalsOf<K>(acc: Map<K, KeyTotals>, key: K): KeyTotals {
  let a = acc.get(key);
  if (!a) {
    a = { h: emptyHistogram(), total: 0, errors: 0, calls: 0, self: 0, selfCount: 0 };
    acc.set(key, a);
  }
  return a;
}

export function addScalars(a: KeyTotals, row: RollupScalars): void {
  a.total += row.total_ms;
  a.errors += row.errors;
  a.calls += row.calls;
  a.self += row.self_ms;
  a.selfCount += row.self_count;
}

/**
 * The `limit` keys that contributed the most time, as answer rows. Ties are broken by key text,
 * so every store ranks the same data the same way whatever ids it gave the keys; only the top
 * entries (and those tied with the last) have their text looked up.
 */
export async function rankTotals<K>(kind: StatsKind, acc: Map<K, KeyTotals>, limit: number, textsOf: (keys: K[]) => Promise<Map<K, string>>): Promise<StatsRow[]> {
  const sorted = [...acc.entries()].sort((x, y) => y[1].total - x[1].total);
  let end = Math.min(limit, sorted.length);
  const last = sorted[end - 1];
  while (last && end < sorted.length && sorted[end]?.[1].total === last[1].total) end++;
  const top = sorted.slice(0, end);
  const texts = await textsOf(top.map(([k]) => k));
  const named = top.map(([k, a]) => ({ key: texts.get(k) ?? '', a }));
  named.sort((x, y) => y.a.total - x.a.total || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return named.slice(0, limit).map(({ key, a }) => {
    const row: StatsRow = {
      key,
      count: a.h.total,
      total_ms: round(a.total),
      p50_ms: percentile(a.h, 0.5),
      p95_ms: percentile(a.h, 0.95),
      p99_ms: percentile(a.h, 0.99),
      max_ms: round(a.h.maxMs),
    };
    if (kind === 'endpoints') row.error_rate = round(a.errors / Math.max(1, a.h.total));
    if (kind === 'functions') {
      row.calls = a.calls;
      row.self_ms = a.selfCount === 0 ? null : round(a.self);
    }
    return row;
  });
}
