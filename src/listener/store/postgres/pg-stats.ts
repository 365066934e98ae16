import type { Pool } from 'pg';
import { emptyHistogram, percentile, type Histogram } from '../duration-buckets.js';
import { addScalars, rankTotals, totalsOf, type KeyTotals } from '../rollup-ranking.js';
import type { KeyDetail, ProjectScope, SeriesPoint, StatsKind, StatsRow, WindowQuery } from '../store.js';
import type { RollupKind } from '../batch-rollup.js';
import { seriesGrid, windowSegments } from '../window-segments.js';
import { addPairsText, DENSE_BUCKETS, flushDense } from './pg-hist.js';
import { SERIES_KEY } from './pg-rollup-writer.js';

interface RollupRow {
  key_id: number;
  t: number;
  /** The bigint[] as its text: parsed straight into the sums (pg-hist.ts). */
  hist: string;
  count: number;
  total_ms: number;
  max_ms: number;
  errors: number;
  calls: number;
  self_ms: number;
  self_count: number;
}

/** Keys summed in dense arrays (5 KB each); a ranking over more keys sums the rest in Maps. */
const MAX_DENSE_KEYS = 4096;

const KIND: Record<StatsKind, RollupKind> = { endpoints: 'e', queries: 'q', functions: 'f' };
const COLUMNS = 'key_id, t, count, total_ms, max_ms, errors, calls, self_ms, self_count, hist::text AS hist';
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
      const dense = new Map<number, Float64Array>();
      for (const project of await scopeProjects(window.projects)) {
        // The segments' rows are fetched at once (the database reads the edges while this process
        // parses the hours) and added in segment order, so sums add up as in the SQLite store.
        const segments = windowSegments(window.from, window.to);
        const fetched = await Promise.all(segments.map((s) => rows('bv_rollups_grouped', GROUPED, [project, KIND[kind], s.res, s.from, s.to])));
        for (const segmentRows of fetched) {
          for (const row of segmentRows) {
            const a = totalsOf(acc, row.key_id);
            let d = dense.get(row.key_id);
            if (d === undefined && dense.size < MAX_DENSE_KEYS) dense.set(row.key_id, (d = new Float64Array(DENSE_BUCKETS)));
            addPairsText(a.h, row.hist, row.count, row.max_ms, d);
            addScalars(a, row);
          }
        }
      }
      for (const [id, d] of dense) flushDense((acc.get(id) as KeyTotals).h, d);
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
        if (h) addPairsText(h, row.hist, row.count, row.max_ms);
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
          if (h) addPairsText(h, row.hist, row.count, row.max_ms);
          addPairsText(whole, row.hist, row.count, row.max_ms);
        });
      }
      const series = [...points.entries()].map(([t, h]) => ({ t, count: h.total, p50_ms: percentile(h, 0.5), p95_ms: percentile(h, 0.95), p99_ms: percentile(h, 0.99) }));
      return { histogram: whole, series };
    },

    async keyHistogram(project, kind, key, from, to) {
      // One round trip (key id and every segment): a request's detail waits for this baseline.
      // Counts and maxima add up in any order, so the segments need no order here.
      const h = emptyHistogram();
      const segments = windowSegments(from, to);
      const r = await pool.query<Pick<RollupRow, 'count' | 'max_ms' | 'hist'>>({
        name: 'bv_rollups_key_histogram',
        text: `SELECT r.count, r.max_ms, r.hist::text AS hist
          FROM unnest($4::int[], $5::bigint[], $6::bigint[]) AS s(res, t0, t1)
          JOIN rollups r ON r.project = $1 AND r.kind = $2 AND r.res = s.res AND r.t >= s.t0 AND r.t < s.t1
           AND r.key_id = (SELECT id FROM rollup_keys WHERE kind = $2 AND md5(text) = md5($3) AND text = $3)`,
        values: [project, kind, key, segments.map((s) => s.res), segments.map((s) => s.from), segments.map((s) => s.to)],
      });
      for (const row of r.rows) addPairsText(h, row.hist, row.count, row.max_ms);
      return h;
    },
  };
}
