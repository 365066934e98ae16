import type { Database, Statement } from 'better-sqlite3';
import type { ProfileRecord } from '../../extract/extract-record.js';
import { createRollupAggregator, SERIES_TEXT, type BatchRollup, type RollupAggregator, type RollupKind } from '../batch-rollup.js';
import { addEncoded, encodeCounts } from '../histogram-blob.js';

export { HOUR, MINUTE, type RollupKind } from '../batch-rollup.js';
/** key_id of the single per-project series ('s'). */
export const SERIES_KEY = 0;

export interface RollupWriter {
  /** Adds one stored profile to the batch's in-memory aggregate (inside the insert transaction). */
  add(record: ProfileRecord): void;
  /** Adds a batch a parse worker already aggregated (batch-rollup.ts). */
  addBatch(batch: BatchRollup): void;
  /** Upserts the aggregate: a 500-line batch turns into one row update per key and minute (and hour). */
  flush(): void;
  /**
   * Forgets cached key ids and histograms: after a rolled-back transaction (they may not exist) and
   * after retention deleted rows.
   */
  reset(): void;
}

/** Cells whose decoded histogram is kept between batches (a few hundred bytes each). */
const MAX_CACHED_HISTOGRAMS = 20_000;

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
  let batch: RollupAggregator = createRollupAggregator();
  // Pre-aggregated batches are upserted as they came, not copied into `batch`: a cell that appears twice
  // (a body split across two workers) is read back and merged like any existing row.
  let ready: BatchRollup[] = [];
  // The histogram last written to each recently updated cell, decoded, so the next batch on the same
  // minute/hour adds to it without reading the row back and decoding it (profile: the read + decode were
  // over a third of the rollup cost). Valid because this writer is the only one that writes rollups; it
  // is dropped on rollback and after retention.
  let hists = new Map<string, Map<number, number>>();

  function keyId(kind: RollupKind, text: string): number {
    if (kind === 's' && text === SERIES_TEXT) return SERIES_KEY;
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

  return {
    add: (r) => batch.add(r),
    addBatch: (b) => void ready.push(b),
    flush() {
      for (const c of [batch.result(), ...ready].flatMap((b) => b.cells)) {
        const id = keyId(c.kind, c.key);
        const cellKey = `${c.project}\u0000${c.kind}\u0000${c.res}\u0000${c.t}\u0000${id}`;
        let counts = hists.get(cellKey);
        if (counts) {
          for (const [b, n] of c.counts) counts.set(b, (counts.get(b) ?? 0) + n);
        } else {
          counts = c.counts;
          const old = existing.get(c.project, c.kind, c.res, c.t, id) as Buffer | undefined;
          if (old) addEncoded(counts, old);
          if (hists.size >= MAX_CACHED_HISTOGRAMS) hists = new Map(); // bounded; a miss only costs the read
          hists.set(cellKey, counts);
        }
        upsert.run(c.project, c.kind, c.res, c.t, id, c.count, c.totalMs, c.maxMs, c.errors, c.calls, c.selfMs, c.selfCount, encodeCounts(counts));
      }
      batch = createRollupAggregator();
      ready = [];
    },
    reset() {
      keyIds.clear();
      hists = new Map();
      batch = createRollupAggregator();
      ready = [];
    },
  };
}
