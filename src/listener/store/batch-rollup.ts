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

  /** One sample into the minute and the hour cell. */
  function addBoth(project: string, kind: RollupKind, ts: number, key: string, ms: number, errors: number, calls: number, selfMs: number | null): void {
    const bucket = bucketOf(ms);
    addSample(gridOf(project, kind, MINUTE), project, kind, MINUTE, ts, key, bucket, ms, errors, calls, selfMs);
    addSample(gridOf(project, kind, HOUR), project, kind, HOUR, ts, key, bucket, ms, errors, calls, selfMs);
  }

  return {
    add(r) {
      profiles++;
      const err = r.isError ? 1 : 0;
      const p = r.project;
      const ts = r.timestamp;
      addBoth(p, 's', ts, SERIES_TEXT, r.durationMs, err, 1, null);
      addBoth(p, 'e', ts, r.endpoint, r.durationMs, err, 1, null);
      if (r.queries.length > 0) {
        const qMin = gridOf(p, 'q', MINUTE);
        const qHour = gridOf(p, 'q', HOUR);
        for (const q of r.queries) {
          const ms = q.ms ?? 0;
          const bucket = bucketOf(ms);
          addSample(qMin, p, 'q', MINUTE, ts, q.fingerprint, bucket, ms, 0, 1, null);
          addSample(qHour, p, 'q', HOUR, ts, q.fingerprint, bucket, ms, 0, 1, null);
        }
      }
      if (r.functions.length > 0) {
        const fMin = gridOf(p, 'f', MINUTE);
        const fHour = gridOf(p, 'f', HOUR);
        for (const f of r.functions) {
          const bucket = bucketOf(f.wallMs);
          addSample(fMin, p, 'f', MINUTE, ts, f.name, bucket, f.wallMs, 0, f.calls, f.selfMs);
          addSample(fHour, p, 'f', HOUR, ts, f.name, bucket, f.wallMs, 0, f.calls, f.selfMs);
        }
      }
    },
    addBatch(batch) {
      profiles += batch.profiles;
      for (const c of batch.cells) {
        const cell = cellOf(gridOf(c.project, c.kind, c.res), c.project, c.kind, c.res, c.t, c.key);
        for (const [b, n] of c.counts) cell.counts.set(b, (cell.counts.get(b) ?? 0) + n);
        cell.count += c.count;
        cell.totalMs += c.totalMs;
        if (c.maxMs > cell.maxMs) cell.maxMs = c.maxMs;
        cell.errors += c.errors;
        cell.calls += c.calls;
        cell.selfMs += c.selfMs;
        cell.selfCount += c.selfCount;
      }
    },
    result() {
      const cells: RollupCell[] = [];
      for (const grid of grids.values()) for (const row of grid.values()) for (const c of row.values()) cells.push(c);
      return { cells, profiles };
    },
  };
}

/** Several chunks' rollups as one, cells of the same key summed (a body split across workers). */
export function mergeRollups(parts: readonly BatchRollup[]): BatchRollup {
  if (parts.length === 1 && parts[0]) return parts[0];
  const all = createRollupAggregator();
  for (const p of parts) all.addBatch(p);
  return all.result();
}
