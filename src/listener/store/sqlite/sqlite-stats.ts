import type { Database } from 'better-sqlite3';
import { emptyHistogram, percentile, round, type Histogram } from '../duration-buckets.js';
import { addBlobToHistogram } from '../histogram-blob.js';
import type { KeyDetail, ProjectScope, SeriesPoint, StatsKind, StatsRow, WindowQuery } from '../store.js';
import { HOUR, MINUTE, SERIES_KEY, type RollupKind } from './rollup-writer.js';

interface RollupRow {
  key_id: number;
  hist: Buffer;
  count: number;
  total_ms: number;
  max_ms: number;
  errors: number;
  calls: number;
  self_ms: number;
  self_count: number;
}

interface Segment {
  res: number;
  from: number;
  to: number;
}

const KIND: Record<StatsKind, RollupKind> = { endpoints: 'e', queries: 'q', functions: 'f' };

/**
 * A window [from, to) rounded out to whole minutes, read as whole hours from the hourly rollup and
 * the ragged edges from the minute rollup. A 24 h window is then ~24 rows per key plus the edges.
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

export interface SqliteStats {
  stats(kind: StatsKind, window: WindowQuery, limit: number): StatsRow[];
  timeseries(window: WindowQuery, stepS: number): SeriesPoint[];
  keyHistogram(project: string, kind: RollupKind, key: string, from: number, to: number): Histogram;
  keyDetail(kind: StatsKind, key: string, window: WindowQuery, stepS: number): KeyDetail;
}

export function createSqliteStats(db: Database): SqliteStats {
  const COLUMNS = 'key_id, count, total_ms, max_ms, errors, calls, self_ms, self_count, hist';
  const grouped = db.prepare(`SELECT ${COLUMNS} FROM rollups WHERE project = ? AND kind = ? AND res = ? AND t >= ? AND t < ?`);
  const keyedRows = db.prepare(`SELECT ${COLUMNS} FROM rollups WHERE project = ? AND kind = ? AND res = ? AND t >= ? AND t < ? AND key_id = ?`);
  const seriesRows = db.prepare(`SELECT t, count, max_ms, hist FROM rollups WHERE project = ? AND kind = 's' AND res = ? AND t >= ? AND t < ? AND key_id = ${SERIES_KEY}`);
  const keyedSeriesRows = db.prepare('SELECT t, count, max_ms, hist FROM rollups WHERE project = ? AND kind = ? AND res = ? AND t >= ? AND t < ? AND key_id = ?');
  const allProjects = db.prepare('SELECT name FROM projects');
  const keyText = db.prepare('SELECT text FROM rollup_keys WHERE id = ?').pluck();
  const keyIdOf = db.prepare('SELECT id FROM rollup_keys WHERE kind = ? AND text = ?').pluck();

  function scopeProjects(scope: ProjectScope): string[] {
    return scope === null ? (allProjects.pluck().all() as string[]) : [...scope];
  }

  return {
    stats(kind, window, limit) {
      const acc = new Map<number, { h: Histogram; total: number; errors: number; calls: number; self: number; selfCount: number }>();
      for (const project of scopeProjects(window.projects)) {
        for (const s of windowSegments(window.from, window.to)) {
          for (const row of grouped.iterate(project, KIND[kind], s.res, s.from, s.to) as IterableIterator<RollupRow>) {
            let a = acc.get(row.key_id);
            if (!a) {
              a = { h: emptyHistogram(), total: 0, errors: 0, calls: 0, self: 0, selfCount: 0 };
              acc.set(row.key_id, a);
            }
            addBlobToHistogram(a.h, row.hist, row.count, row.max_ms);
            a.total += row.total_ms;
            a.errors += row.errors;
            a.calls += row.calls;
            a.self += row.self_ms;
            a.selfCount += row.self_count;
          }
        }
      }
      const ranked = [...acc.entries()].sort((x, y) => y[1].total - x[1].total).slice(0, limit);
      return ranked.map(([keyId, a]) => {
        const row: StatsRow = {
          key: keyText.get(keyId) as string,
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
    },

    timeseries(window, stepS) {
      const step = Math.max(MINUTE, Math.round(stepS / MINUTE) * MINUTE);
      const res = step % HOUR === 0 ? HOUR : MINUTE;
      const from = Math.floor(window.from / step) * step;
      const to = Math.ceil(window.to / step) * step;
      const points = new Map<number, Histogram>();
      for (let t = from; t < to; t += step) points.set(t, emptyHistogram());
      for (const project of scopeProjects(window.projects)) {
        for (const row of seriesRows.iterate(project, res, from, to) as IterableIterator<{ t: number; hist: Buffer; count: number; max_ms: number }>) {
          const h = points.get(Math.floor(row.t / step) * step);
          if (h) addBlobToHistogram(h, row.hist, row.count, row.max_ms);
        }
      }
      return [...points.entries()].map(([t, h]) => ({ t, count: h.total, p95_ms: percentile(h, 0.95) }));
    },

    keyDetail(kind, key, window, stepS) {
      // Same step rules as the project series; minute rows unless the step is whole hours.
      const step = Math.max(MINUTE, Math.round(stepS / MINUTE) * MINUTE);
      const res = step % HOUR === 0 ? HOUR : MINUTE;
      const from = Math.floor(window.from / step) * step;
      const to = Math.ceil(window.to / step) * step;
      const points = new Map<number, Histogram>();
      for (let t = from; t < to; t += step) points.set(t, emptyHistogram());
      const whole = emptyHistogram();
      const id = keyIdOf.get(KIND[kind], key) as number | undefined;
      if (id !== undefined) {
        for (const project of scopeProjects(window.projects)) {
          for (const row of keyedSeriesRows.iterate(project, KIND[kind], res, from, to, id) as IterableIterator<{ t: number; hist: Buffer; count: number; max_ms: number }>) {
            const h = points.get(Math.floor(row.t / step) * step);
            if (h) addBlobToHistogram(h, row.hist, row.count, row.max_ms);
            addBlobToHistogram(whole, row.hist, row.count, row.max_ms);
          }
        }
      }
      const series = [...points.entries()].map(([t, h]) => ({ t, count: h.total, p50_ms: percentile(h, 0.5), p95_ms: percentile(h, 0.95), p99_ms: percentile(h, 0.99) }));
      return { histogram: whole, series };
    },

    keyHistogram(project, kind, key, from, to) {
      const h = emptyHistogram();
      const id = keyIdOf.get(kind, key) as number | undefined;
      if (id === undefined) return h;
      for (const s of windowSegments(from, to)) {
        for (const row of keyedRows.iterate(project, kind, s.res, s.from, s.to, id) as IterableIterator<RollupRow>) {
          addBlobToHistogram(h, row.hist, row.count, row.max_ms);
        }
      }
      return h;
    },
  };
}
