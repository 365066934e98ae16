import type { Database } from 'better-sqlite3';
import { emptyHistogram, percentile, type Histogram } from '../duration-buckets.js';
import { addBlobToHistogram } from '../histogram-blob.js';
import { addScalars, rankTotals, totalsOf, type KeyTotals } from '../rollup-ranking.js';
import type { KeyDetail, ProjectScope, SeriesPoint, StatsKind, StatsRow, WindowQuery } from '../store.js';
import { seriesGrid, windowSegments } from '../window-segments.js';
import { SERIES_KEY, type RollupKind } from './rollup-writer.js';

export { windowSegments };

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

const KIND: Record<StatsKind, RollupKind> = { endpoints: 'e', queries: 'q', functions: 'f' };

export interface SqliteStats {
  stats(kind: StatsKind, window: WindowQuery, limit: number): Promise<StatsRow[]>;
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
  const allProjects = db.prepare('SELECT name FROM projects ORDER BY name');
  const keyText = db.prepare('SELECT text FROM rollup_keys WHERE id = ?').pluck();
  const keyIdOf = db.prepare('SELECT id FROM rollup_keys WHERE kind = ? AND text = ?').pluck();

  function scopeProjects(scope: ProjectScope): string[] {
    return scope === null ? (allProjects.pluck().all() as string[]) : [...scope];
  }

  return {
    async stats(kind, window, limit) {
      const acc = new Map<number, KeyTotals>();
      for (const project of scopeProjects(window.projects)) {
        for (const s of windowSegments(window.from, window.to)) {
          for (const row of grouped.iterate(project, KIND[kind], s.res, s.from, s.to) as IterableIterator<RollupRow>) {
            const a = totalsOf(acc, row.key_id);
            addBlobToHistogram(a.h, row.hist, row.count, row.max_ms);
            addScalars(a, row);
          }
        }
      }
      return rankTotals(kind, acc, limit, async (ids) => new Map(ids.map((id) => [id, keyText.get(id) as string])));
    },

    timeseries(window, stepS) {
      const { step, res, from, to } = seriesGrid(window.from, window.to, stepS);
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
      const { step, res, from, to } = seriesGrid(window.from, window.to, stepS);
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
