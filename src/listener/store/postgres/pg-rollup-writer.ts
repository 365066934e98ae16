import type { PoolClient } from 'pg';
import { SERIES_TEXT, type BatchRollup, type RollupKind } from '../batch-rollup.js';
import { numberArray, textArray } from './pg-arrays.js';
import { histLiteral } from './pg-hist.js';

/** key_id of the single per-project series ('s'), as in the SQLite store. */
export const SERIES_KEY = 0;
const MAX_CACHED_KEYS = 200_000;

const UPSERT = `
  INSERT INTO rollups AS r (project, kind, res, t, key_id, count, total_ms, max_ms, errors, calls, self_ms, self_count, hist)
  SELECT project, kind, res, t, key_id, count, total_ms, max_ms, errors, calls, self_ms, self_count, hist::bigint[]
  FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::bigint[], $6::bigint[], $7::float8[], $8::float8[], $9::bigint[],
              $10::bigint[], $11::float8[], $12::bigint[], $13::text[]) WITH ORDINALITY
       AS u(project, kind, res, t, key_id, count, total_ms, max_ms, errors, calls, self_ms, self_count, hist, o)
  ORDER BY o
  ON CONFLICT (project, kind, res, t, key_id) DO UPDATE SET
    count = r.count + excluded.count,
    total_ms = r.total_ms + excluded.total_ms,
    max_ms = greatest(r.max_ms, excluded.max_ms),
    errors = r.errors + excluded.errors,
    calls = r.calls + excluded.calls,
    self_ms = r.self_ms + excluded.self_ms,
    self_count = r.self_count + excluded.self_count,
    hist = bitville_hist_add(r.hist, excluded.hist)`;

const INSERT_KEYS = `
  INSERT INTO rollup_keys (kind, text)
  SELECT k, t FROM unnest($1::text[], $2::text[]) AS u(k, t) ORDER BY k, md5(t)
  ON CONFLICT (kind, md5(text)) DO NOTHING`;
const SELECT_KEYS = `
  SELECT r.id, r.kind, r.text FROM unnest($1::text[], $2::text[]) AS u(k, t)
  JOIN rollup_keys r ON r.kind = u.k AND md5(r.text) = md5(u.t) AND r.text = u.t`;

export interface PgRollupWriter {
  /**
   * Upserts one batch's cells inside the caller's transaction. Every scalar adds up in SQL and the
   * histogram merges with bitville_hist_add on the locked row, so two listeners writing the same
   * minute both count. Rows go in key order, so two such transactions cannot deadlock.
   */
  write(client: PoolClient, rollup: BatchRollup): Promise<NewKeys>;
  /** Keys a transaction created become usable by others only once it committed. */
  committed(keys: NewKeys): void;
}

/** Key ids a transaction inserted or first looked up: cached only after it committed. */
export type NewKeys = Map<string, number>;

export function createPgRollupWriter(): PgRollupWriter {
  let ids = new Map<string, number>();
  const cacheKey = (kind: string, text: string): string => `${kind}\u0000${text}`;

  async function keyIds(client: PoolClient, rollup: BatchRollup, pending: NewKeys): Promise<(kind: RollupKind, text: string) => number> {
    const missing = new Map<string, { kind: string; text: string }>();
    for (const c of rollup.cells) {
      if (c.kind === 's' && c.key === SERIES_TEXT) continue;
      const k = cacheKey(c.kind, c.key);
      if (!ids.has(k) && !pending.has(k)) missing.set(k, { kind: c.kind, text: c.key });
    }
    if (missing.size > 0) {
      const kinds = [...missing.values()].map((m) => m.kind);
      const texts = [...missing.values()].map((m) => m.text);
      await client.query({ name: 'bv_rollup_keys_insert', text: INSERT_KEYS, values: [kinds, texts] });
      const found = await client.query<{ id: number; kind: string; text: string }>({ name: 'bv_rollup_keys_select', text: SELECT_KEYS, values: [kinds, texts] });
      for (const r of found.rows) pending.set(cacheKey(r.kind, r.text), r.id);
    }
    return (kind, text) => {
      if (kind === 's' && text === SERIES_TEXT) return SERIES_KEY;
      const k = cacheKey(kind, text);
      const id = ids.get(k) ?? pending.get(k);
      if (id === undefined) throw new Error(`rollup key ${kind}:${text.slice(0, 80)} has no id`);
      return id;
    };
  }

  return {
    async write(client, rollup) {
      const pending: NewKeys = new Map();
      if (rollup.cells.length === 0) return pending;
      const idOf = await keyIds(client, rollup, pending);
      const cells = rollup.cells.map((c) => ({ c, id: idOf(c.kind, c.key) }));
      cells.sort((x, y) => cmp(x.c.project, y.c.project) || cmp(x.c.kind, y.c.kind) || x.c.res - y.c.res || x.c.t - y.c.t || x.id - y.id);
      await client.query({
        name: 'bv_rollups_upsert',
        text: UPSERT,
        values: [
          textArray(cells.map((x) => x.c.project)),
          textArray(cells.map((x) => x.c.kind)),
          numberArray(cells.map((x) => x.c.res)),
          numberArray(cells.map((x) => x.c.t)),
          numberArray(cells.map((x) => x.id)),
          numberArray(cells.map((x) => x.c.count)),
          numberArray(cells.map((x) => x.c.totalMs)),
          numberArray(cells.map((x) => x.c.maxMs)),
          numberArray(cells.map((x) => x.c.errors)),
          numberArray(cells.map((x) => x.c.calls)),
          numberArray(cells.map((x) => x.c.selfMs)),
          numberArray(cells.map((x) => x.c.selfCount)),
          // Each histogram literal has only digits, commas and braces: quoted, nothing to escape.
          `{${cells.map((x) => `"${histLiteral(x.c.counts)}"`).join(',')}}`,
        ],
      });
      return pending;
    },
    committed(keys) {
      if (ids.size + keys.size > MAX_CACHED_KEYS) ids = new Map(); // bounded; a miss costs one lookup
      for (const [k, v] of keys) ids.set(k, v);
    },
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
