import type { Pool } from 'pg';
import { emptyHistogram, percentile, type Histogram } from '../duration-buckets.js';
import { addScalars, rankTotals, totalsOf, type KeyTotals } from '../rollup-ranking.js';
import type { KeyDetail, ProjectScope, SeriesPoint, StatsKind, StatsRow, WindowQuery } from '../store.js';
import type { RollupKind } from '../batch-rollup.js';
import { seriesGrid, windowSegments } from '../window-segments.js';
import { addPairsToHistogram } from './pg-hist.js';
import { SERIES_KEY } from './pg-rollup-writer.js';

interface RollupRow {
  key_id: number;
  t: number;
  hist: number[];
  count: number;
  total_ms: number;
  max_ms: number;
  errors: number;
  calls: number;
  self_ms: number;
  self_count: number;
}

const KIND: Record<StatsKind, RollupKind> = { endpoints: 'e', queries: 'q', functions: 'f' };
const COLUMNS = 'key_id, t, count, total_ms, max_ms, errors, calls, self_ms, self_count, hist';
// Rows in time order, as the SQLite store reads them (primary key order): sums of floating-point
// totals then add up in the same order and both stores answer the same digits.
const GROUPED = `SELECT ${COLUMNS} FROM rollups WHERE project = $1 AND kind = $2 AND res = $3 AND t >= $4 AND t < $5 ORDER BY t, key_id`;
const KEYED = `SELECT ${COLUMNS} FROM rollups WHERE project = $1 AND kind = $2 AND res = $3 AND t >= $4 AND t < $5 AND key_id = $6 ORDER BY t`;

export interface PgStats {
  stats(kind: StatsKind, window: WindowQuery, limit: number): Promise<StatsRow[]>;
  timeseries(window: WindowQuery, stepS: number): Promise<SeriesPoint[]>;
  keyHistogram(project: string, kind: RollupKind, key: string, from: number, to: number): Promise<Histogram>;
  keyDetail(kind: StatsKind, key: string, window: WindowQuery, stepS: number): Promise<KeyDetail>;
}

/** Statistics from the rollups, the same arithmetic as sqlite-stats.ts (shared: rollup-ranking.ts, window-segments.ts). */
export function createPgStats(pool: Pool): PgStats {
  async function rows(name: string, text: string, values: unknown[]): Promise<RollupRow[]> {
    return (await pool.query<RollupRow>({ name, text, values })).rows;
  }

  async function scopeProjects(scope: ProjectScope): Promise<string[]> {
    if (scope !== null) return [...scope];
    return (await pool.query<{ name: string }>({ name: 'bv_project_names', text: 'SELECT name FROM projects ORDER BY name COLLATE "C"' })).rows.map((r) => r.name);
  }

  async function keyIdOf(kind: RollupKind, key: string): Promise<number | undefined> {
    const r = await pool.query<{ id: number }>({ name: 'bv_key_id', text: 'SELECT id FROM rollup_keys WHERE kind = $1 AND md5(text) = md5($2) AND text = $2', values: [kind, key] });
    return r.rows[0]?.id;
  }

  async function keyed(kind: RollupKind, id: number, projects: string[], res: number, from: number, to: number, each: (row: RollupRow) => void): Promise<void> {
    for (const project of projects) for (const row of await rows('bv_rollups_keyed', KEYED, [project, kind, res, from, to, id])) each(row);
  }

  return {
    async stats(kind, window, limit) {
      const acc = new Map<number, KeyTotals>();
      for (const project of await scopeProjects(window.projects)) {
        for (const s of windowSegments(window.from, window.to)) {
          for (const row of await rows('bv_rollups_grouped', GROUPED, [project, KIND[kind], s.res, s.from, s.to])) {
            const a = totalsOf(acc, row.key_id);
            addPairsToHistogram(a.h, row.hist, row.count, row.max_ms);
            addScalars(a, row);
          }
        }
      }
      return rankTotals(kind, acc, limit, async (ids) => {
        const r = await pool.query<{ id: number; text: string }>({ name: 'bv_key_texts', text: 'SELECT id, text FROM rollup_keys WHERE id = ANY($1::bigint[])', values: [ids] });
        return new Map(r.rows.map((x) => [x.id, x.text]));
      });
    },

    async timeseries(window, stepS) {
      const { step, res, from, to } = seriesGrid(window.from, window.to, stepS);
      const points = new Map<number, Histogram>();
      for (let t = from; t < to; t += step) points.set(t, emptyHistogram());
      await keyed('s', SERIES_KEY, await scopeProjects(window.projects), res, from, to, (row) => {
        const h = points.get(Math.floor(row.t / step) * step);
        if (h) addPairsToHistogram(h, row.hist, row.count, row.max_ms);
      });
      return [...points.entries()].map(([t, h]) => ({ t, count: h.total, p95_ms: percentile(h, 0.95) }));
    },

    async keyDetail(kind, key, window, stepS) {
      const { step, res, from, to } = seriesGrid(window.from, window.to, stepS);
      const points = new Map<number, Histogram>();
      for (let t = from; t < to; t += step) points.set(t, emptyHistogram());
      const whole = emptyHistogram();
      const id = await keyIdOf(KIND[kind], key);
      if (id !== undefined) {
        await keyed(KIND[kind], id, await scopeProjects(window.projects), res, from, to, (row) => {
          const h = points.get(Math.floor(row.t / step) * step);
          if (h) addPairsToHistogram(h, row.hist, row.count, row.max_ms);
          addPairsToHistogram(whole, row.hist, row.count, row.max_ms);
        });
      }
      const series = [...points.entries()].map(([t, h]) => ({ t, count: h.total, p50_ms: percentile(h, 0.5), p95_ms: percentile(h, 0.95), p99_ms: percentile(h, 0.99) }));
      return { histogram: whole, series };
    },

    async keyHistogram(project, kind, key, from, to) {
      const h = emptyHistogram();
      const id = await keyIdOf(kind, key);
      if (id === undefined) return h;
      for (const s of windowSegments(from, to)) await keyed(kind, id, [project], s.res, s.from, s.to, (row) => addPairsToHistogram(h, row.hist, row.count, row.max_ms));
      return h;
    },
  };
}
