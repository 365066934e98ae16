import type { ProfileRecord } from '../extract/extract-record.js';
import { bucketOf } from './duration-buckets.js';

/** Rollup kinds: endpoint, SQL fingerprint, function, and the whole project (time series). */
export type RollupKind = 'e' | 'q' | 'f' | 's';
export const MINUTE = 60;
export const HOUR = 3600;
/** Key text of the single per-project series ('s'); stored as key_id 0. */
export const SERIES_TEXT = '';

/** One (project, kind, res, t, key) row's worth of samples from one batch. */
export interface RollupCell {
  project: string;
  kind: RollupKind;
  res: number;
  t: number;
  /** Endpoint key, SQL fingerprint or function name; SERIES_TEXT for kind 's'. */
  key: string;
  /** Histogram bucket -> samples (duration-buckets.ts). */
  counts: Map<number, number>;
  count: number;
  totalMs: number;
  maxMs: number;
  errors: number;
  calls: number;
  selfMs: number;
  selfCount: number;
}

/**
 * A batch's rollup samples summed per cell: what the SQLite writer upserts, one row per cell.
 * Plain data (Maps and numbers), so a parse worker can build it and post it to the event loop
 * instead of every record's query and function lists (~30 objects per profile).
 */
export interface BatchRollup {
  cells: RollupCell[];
  /** How many profile records went into it. */
  profiles: number;
}

export interface RollupAggregator {
  add(record: ProfileRecord): void;
  /** Adds a batch aggregated elsewhere (a parse worker). */
  addBatch(batch: BatchRollup): void;
  result(): BatchRollup;
}

/**
 * Cells are grouped by (project, kind, res), then minute/hour start, then key text: the string key
 * of a group is built once per record and kind, not per sample (profile: building per-sample keys
 * cost more than the maths).
 */
export function createRollupAggregator(): RollupAggregator {
  const grids = new Map<string, Map<number, Map<string, RollupCell>>>();
  let profiles = 0;

  function gridOf(project: string, kind: RollupKind, res: number): Map<number, Map<string, RollupCell>> {
    const k = `${project}\u0000${kind}\u0000${res}`;
    let grid = grids.get(k);
    if (!grid) grids.set(k, (grid = new Map()));
    return grid;
  }

  function cellOf(grid: Map<number, Map<string, RollupCell>>, project: string, kind: RollupKind, res: number, t: number, key: string): RollupCell {
    let row = grid.get(t);
    if (!row) grid.set(t, (row = new Map()));
    let cell = row.get(key);
    if (!cell) {
      cell = { project, kind, res, t, key, counts: new Map(), count: 0, totalMs: 0, maxMs: 0, errors: 0, calls: 0, selfMs: 0, selfCount: 0 };
      row.set(key, cell);
    }
    return cell;
  }

  function addSample(grid: Map<number, Map<string, RollupCell>>, project: string, kind: RollupKind, res: number, ts: number, key: string, bucket: number, ms: number, errors: number, calls: number, selfMs: number | null): void {
    const cell = cellOf(grid, project, kind, res, Math.floor(ts / res) * res, key);
    cell.counts.set(bucket, (cell.counts.get(bucket) ?? 0) + 1);
    cell.count += 1;
    cell.totalMs += ms;
    if (ms > cell.maxMs) cell.maxMs = ms;
    cell.errors += errors;
    cell.calls += calls;
    if (selfMs !== null) {
      cell.selfMs += selfMs;
      cell.selfCount += 1;
    }
  }

  /** One sample into its minute cell; hour cells are summed from the minute cells in result(). */
  function addMinute(project: string, kind: RollupKind, ts: number, key: string, ms: number, errors: number, calls: number, selfMs: number | null): void {
    addSample(gridOf(project, kind, MINUTE), project, kind, MINUTE, ts, key, bucketOf(ms), ms, errors, calls, selfMs);
  }

  function minuteCells(): RollupCell[] {
    const out: RollupCell[] = [];
    for (const grid of grids.values()) for (const row of grid.values()) for (const c of row.values()) out.push(c);
    return out;
  }

  return {
    add(r) {
      profiles++;
      const err = r.isError ? 1 : 0;
      const p = r.project;
      const ts = r.timestamp;
      addMinute(p, 's', ts, SERIES_TEXT, r.durationMs, err, 1, null);
      addMinute(p, 'e', ts, r.endpoint, r.durationMs, err, 1, null);
      if (r.queries.length > 0) {
        const qMin = gridOf(p, 'q', MINUTE);
        for (const q of r.queries) {
          const ms = q.ms ?? 0;
          addSample(qMin, p, 'q', MINUTE, ts, q.fingerprint, bucketOf(ms), ms, 0, 1, null);
        }
      }
      if (r.functions.length > 0) {
        const fMin = gridOf(p, 'f', MINUTE);
        for (const f of r.functions) addSample(fMin, p, 'f', MINUTE, ts, f.name, bucketOf(f.wallMs), f.wallMs, 0, f.calls, f.selfMs);
      }
    },
    addBatch(batch) {
      profiles += batch.profiles;
      for (const c of batch.cells) {
        if (c.res === MINUTE) sumInto(cellOf(gridOf(c.project, c.kind, MINUTE), c.project, c.kind, MINUTE, c.t, c.key), c); // hours are summed again in result()
      }
    },
    result() {
      // A sample's hour cell is the sum of its minute cells: adding each sample once (to its minute)
      // and summing a few hundred minute cells per batch costs half of adding every sample twice.
      const minutes = minuteCells();
      const hours = new Map<string, RollupCell>();
      for (const c of minutes) {
        const t = Math.floor(c.t / HOUR) * HOUR;
        const k = `${c.project}\u0000${c.kind}\u0000${t}\u0000${c.key}`;
        let h = hours.get(k);
        if (!h) hours.set(k, (h = { project: c.project, kind: c.kind, res: HOUR, t, key: c.key, counts: new Map(), count: 0, totalMs: 0, maxMs: 0, errors: 0, calls: 0, selfMs: 0, selfCount: 0 }));
        sumInto(h, c);
      }
      return { cells: [...minutes, ...hours.values()], profiles };
    },
  };
}

function sumInto(cell: RollupCell, c: RollupCell): void {
  for (const [b, n] of c.counts) cell.counts.set(b, (cell.counts.get(b) ?? 0) + n);
  cell.count += c.count;
  cell.totalMs += c.totalMs;
  if (c.maxMs > cell.maxMs) cell.maxMs = c.maxMs;
  cell.errors += c.errors;
  cell.calls += c.calls;
  cell.selfMs += c.selfMs;
  cell.selfCount += c.selfCount;
}

/** Several chunks' rollups as one, cells of the same key summed (a body split across workers). */
export function mergeRollups(parts: readonly BatchRollup[]): BatchRollup {
  if (parts.length === 1 && parts[0]) return parts[0];
  const all = createRollupAggregator();
  for (const p of parts) all.addBatch(p);
  return all.result();
}
