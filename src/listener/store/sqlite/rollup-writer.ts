import type { Database, Statement } from 'better-sqlite3';
import type { ProfileRecord } from '../../extract/extract-record.js';
import { bucketOf } from '../duration-buckets.js';
import { addEncoded, encodeCounts } from '../histogram-blob.js';

/** Rollup kinds: endpoint, SQL fingerprint, function, and the whole project (time series). */
export type RollupKind = 'e' | 'q' | 'f' | 's';
export const MINUTE = 60;
export const HOUR = 3600;
/** key_id of the single per-project series ('s'). */
export const SERIES_KEY = 0;

interface Cell {
  project: string;
  kind: RollupKind;
  res: number;
  t: number;
  keyId: number;
  counts: Map<number, number>;
  count: number;
  totalMs: number;
  maxMs: number;
  errors: number;
  calls: number;
  selfMs: number;
  selfCount: number;
}

export interface RollupWriter {
  /** Adds one stored profile to the batch's in-memory aggregate (inside the insert transaction). */
  add(record: ProfileRecord): void;
  /** Upserts the aggregate: a 500-line batch turns into one row update per key and minute (and hour). */
  flush(): void;
  /** Forgets cached key ids after a rolled-back transaction (they may not exist). */
  reset(): void;
}

export function createRollupWriter(db: Database): RollupWriter {
  const keyIds = new Map<RollupKind, Map<string, number>>();
  const insertKey: Statement = db.prepare('INSERT INTO rollup_keys(kind, text) VALUES (?, ?) ON CONFLICT DO NOTHING');
  const selectKey: Statement = db.prepare('SELECT id FROM rollup_keys WHERE kind = ? AND text = ?');
  const existing: Statement = db.prepare('SELECT hist FROM rollups WHERE project = ? AND kind = ? AND res = ? AND t = ? AND key_id = ?').pluck();
  // The histogram is merged in JS (read, add, write back); the scalar columns add up in SQL.
  const upsert: Statement = db.prepare(`
    INSERT INTO rollups(project, kind, res, t, key_id, count, total_ms, max_ms, errors, calls, self_ms, self_count, hist)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT(project, kind, res, t, key_id) DO UPDATE SET
      count = count + excluded.count,
      total_ms = total_ms + excluded.total_ms,
      max_ms = max(max_ms, excluded.max_ms),
      errors = errors + excluded.errors,
      calls = calls + excluded.calls,
      self_ms = self_ms + excluded.self_ms,
      self_count = self_count + excluded.self_count,
      hist = excluded.hist`);
  // Cells grouped by (project, kind, res), then minute/hour start, then key id: string keys are built
  // once per record and kind, not per sample (profile: building them cost more than the maths).
  let grids = new Map<string, Map<number, Map<number, Cell>>>();

  function keyId(kind: RollupKind, text: string): number {
    let ofKind = keyIds.get(kind);
    if (!ofKind) keyIds.set(kind, (ofKind = new Map()));
    const cached = ofKind.get(text);
    if (cached !== undefined) return cached;
    insertKey.run(kind, text);
    const id = (selectKey.get(kind, text) as { id: number }).id;
    if (ofKind.size > 200_000) ofKind.clear(); // bounded; misses only cost a lookup
    ofKind.set(text, id);
    return id;
  }

  function gridOf(project: string, kind: RollupKind, res: number): Map<number, Map<number, Cell>> {
    const k = `${project}\u0000${kind}\u0000${res}`;
    let grid = grids.get(k);
    if (!grid) grids.set(k, (grid = new Map()));
    return grid;
  }

  function addSample(grid: Map<number, Map<number, Cell>>, project: string, kind: RollupKind, res: number, ts: number, id: number, bucket: number, ms: number, errors: number, calls: number, selfMs: number | null): void {
    const t = Math.floor(ts / res) * res;
    let row = grid.get(t);
    if (!row) grid.set(t, (row = new Map()));
    let cell = row.get(id);
    if (!cell) {
      cell = { project, kind, res, t, keyId: id, counts: new Map(), count: 0, totalMs: 0, maxMs: 0, errors: 0, calls: 0, selfMs: 0, selfCount: 0 };
      row.set(id, cell);
    }
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
  function addBoth(project: string, kind: RollupKind, ts: number, id: number, ms: number, errors: number, calls: number, selfMs: number | null): void {
    const bucket = bucketOf(ms);
    addSample(gridOf(project, kind, MINUTE), project, kind, MINUTE, ts, id, bucket, ms, errors, calls, selfMs);
    addSample(gridOf(project, kind, HOUR), project, kind, HOUR, ts, id, bucket, ms, errors, calls, selfMs);
  }

  return {
    add(r) {
      const err = r.isError ? 1 : 0;
      const p = r.project;
      const ts = r.timestamp;
      addBoth(p, 's', ts, SERIES_KEY, r.durationMs, err, 1, null);
      addBoth(p, 'e', ts, keyId('e', r.endpoint), r.durationMs, err, 1, null);
      if (r.queries.length > 0) {
        const qMin = gridOf(p, 'q', MINUTE);
        const qHour = gridOf(p, 'q', HOUR);
        for (const q of r.queries) {
          const id = keyId('q', q.fingerprint);
          const ms = q.ms ?? 0;
          const bucket = bucketOf(ms);
          addSample(qMin, p, 'q', MINUTE, ts, id, bucket, ms, 0, 1, null);
          addSample(qHour, p, 'q', HOUR, ts, id, bucket, ms, 0, 1, null);
        }
      }
      if (r.functions.length > 0) {
        const fMin = gridOf(p, 'f', MINUTE);
        const fHour = gridOf(p, 'f', HOUR);
        for (const f of r.functions) {
          const id = keyId('f', f.name);
          const bucket = bucketOf(f.wallMs);
          addSample(fMin, p, 'f', MINUTE, ts, id, bucket, f.wallMs, 0, f.calls, f.selfMs);
          addSample(fHour, p, 'f', HOUR, ts, id, bucket, f.wallMs, 0, f.calls, f.selfMs);
        }
      }
    },
    flush() {
      for (const grid of grids.values()) {
        for (const row of grid.values()) {
          for (const c of row.values()) {
            const old = existing.get(c.project, c.kind, c.res, c.t, c.keyId) as Buffer | undefined;
            if (old) addEncoded(c.counts, old);
            upsert.run(c.project, c.kind, c.res, c.t, c.keyId, c.count, c.totalMs, c.maxMs, c.errors, c.calls, c.selfMs, c.selfCount, encodeCounts(c.counts));
          }
        }
      }
      grids = new Map();
    },
    reset() {
      keyIds.clear();
      grids = new Map();
    },
  };
}
