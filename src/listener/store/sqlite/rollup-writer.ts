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
  const keyIds = new Map<string, number>();
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
  let cells = new Map<string, Cell>();

  function keyId(kind: RollupKind, text: string): number {
    const cacheKey = `${kind}\u0000${text}`;
    const cached = keyIds.get(cacheKey);
    if (cached !== undefined) return cached;
    insertKey.run(kind, text);
    const id = (selectKey.get(kind, text) as { id: number }).id;
    if (keyIds.size > 200_000) keyIds.clear(); // bounded; misses only cost a lookup
    keyIds.set(cacheKey, id);
    return id;
  }

  function addSample(project: string, kind: RollupKind, ts: number, id: number, ms: number, errors: number, calls: number, selfMs: number | null): void {
    const bucket = bucketOf(ms);
    for (const res of [MINUTE, HOUR]) {
      const t = Math.floor(ts / res) * res;
      const k = `${project}\u0000${kind}\u0000${res}\u0000${t}\u0000${id}`;
      let cell = cells.get(k);
      if (!cell) {
        cell = { project, kind, res, t, keyId: id, counts: new Map(), count: 0, totalMs: 0, maxMs: 0, errors: 0, calls: 0, selfMs: 0, selfCount: 0 };
        cells.set(k, cell);
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
  }

  return {
    add(r) {
      const err = r.isError ? 1 : 0;
      addSample(r.project, 's', r.timestamp, SERIES_KEY, r.durationMs, err, 1, null);
      addSample(r.project, 'e', r.timestamp, keyId('e', r.endpoint), r.durationMs, err, 1, null);
      for (const q of r.queries) addSample(r.project, 'q', r.timestamp, keyId('q', q.fingerprint), q.ms ?? 0, 0, 1, null);
      for (const f of r.functions) addSample(r.project, 'f', r.timestamp, keyId('f', f.name), f.wallMs, 0, f.calls, f.selfMs);
    },
    flush() {
      for (const c of cells.values()) {
        const old = existing.get(c.project, c.kind, c.res, c.t, c.keyId) as Buffer | undefined;
        if (old) addEncoded(c.counts, old);
        upsert.run(c.project, c.kind, c.res, c.t, c.keyId, c.count, c.totalMs, c.maxMs, c.errors, c.calls, c.selfMs, c.selfCount, encodeCounts(c.counts));
      }
      cells = new Map();
    },
    reset() {
      keyIds.clear();
      cells = new Map();
    },
  };
}
