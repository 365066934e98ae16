import type { Pool, PoolClient } from 'pg';
import type { ActivityRecord, ExtractedRecord, ProfileRecord } from '../../extract/extract-record.js';
import { createRollupAggregator, type BatchRollup } from '../batch-rollup.js';
import { restoreSamples } from '../lean-records.js';
import { ENCODING_CODE, packPayload, type PackedPayload } from '../payload-codec.js';
import type { InsertResult } from '../store.js';
import { dayOf, type Partitions } from './pg-partitions.js';
import type { PgRollupWriter } from './pg-rollup-writer.js';
import { insertRows } from './pg-rows.js';
import { inTransaction } from './pg-tx.js';

const REQUEST_COLUMNS = ['id', 'project', 'source', 'correlation_id', 'ts', 'method', 'url', 'endpoint', 'status', 'duration_ms', 'host', 'sql_count', 'sql_ms', 'is_error', 'encoding', 'body', 'facts'];
const ACTIVITY_COLUMNS = ['id', 'project', 'source', 'record_key', 'ts', 'encoding', 'body'];

/** Idempotency keys of one kind: which of a batch's records are new, in the batch's line order. */
interface KeyTable {
  table: 'request_keys' | 'activity_keys';
  keyColumn: 'correlation_id' | 'record_key';
  sequence: string;
}
const REQUEST_KEYS: KeyTable = { table: 'request_keys', keyColumn: 'correlation_id', sequence: 'request_ids' };
const ACTIVITY_KEYS: KeyTable = { table: 'activity_keys', keyColumn: 'record_key', sequence: 'activity_ids' };

interface Keyed {
  key: string;
  project: string;
  source: string;
  ts: number;
}

function stored(r: ExtractedRecord): PackedPayload {
  return r.bodyEncoding === 'identity' ? packPayload(r.body) : { encoding: r.bodyEncoding, bytes: r.body };
}

const identity = (k: Keyed): string => `${k.key}\u0000${k.project}\u0000${k.source}`;

/**
 * Claims the records' keys: ids are drawn in line order (so ties in time sort as SQLite's row ids
 * do), the keys go in with ON CONFLICT DO NOTHING in index order (two listeners claiming
 * overlapping batches lock in the same order), and what came back is what is new. A key seen
 * earlier in the batch or already stored is a duplicate with the stored row's id.
 */
async function claim(client: PoolClient, t: KeyTable, items: readonly Keyed[]): Promise<InsertResult[]> {
  if (items.length === 0) return [];
  const seq = await client.query<{ id: number }>({ name: `bv_${t.sequence}`, text: `SELECT nextval('${t.sequence}') AS id FROM generate_series(1, $1)`, values: [items.length] });
  const ids = seq.rows.map((r) => r.id).sort((a, b) => a - b);
  const inserted = await client.query<{ id: number }>({
    name: `bv_${t.table}_claim`,
    text: `INSERT INTO ${t.table} (${t.keyColumn}, project, source, ts, id)
      SELECT k, p, s, ts, id FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::bigint[]) AS u(k, p, s, ts, id)
      ORDER BY md5(k), md5(p), md5(s), id
      ON CONFLICT (md5(${t.keyColumn}), md5(project), md5(source)) DO NOTHING RETURNING id`,
    values: [items.map((i) => i.key), items.map((i) => i.project), items.map((i) => i.source), items.map((i) => i.ts), ids],
  });
  const fresh = new Set(inserted.rows.map((r) => r.id));
  const firstId = new Map<string, number>();
  const results: InsertResult[] = [];
  const unresolved: number[] = [];
  items.forEach((item, i) => {
    const id = ids[i] as number;
    const k = identity(item);
    if (fresh.has(id)) {
      firstId.set(k, id);
      results.push({ kind: 'accepted', rowId: id });
    } else {
      const earlier = firstId.get(k);
      results.push({ kind: 'duplicate', rowId: earlier ?? -1 });
      if (earlier === undefined) unresolved.push(i);
    }
  });
  if (unresolved.length > 0) {
    const u = unresolved.map((i) => items[i] as Keyed);
    const found = await client.query<{ k: string; p: string; s: string; id: number }>({
      name: `bv_${t.table}_existing`,
      text: `SELECT x.${t.keyColumn} AS k, x.project AS p, x.source AS s, x.id FROM unnest($1::text[], $2::text[], $3::text[]) AS u(k, p, s)
        JOIN ${t.table} x ON md5(x.${t.keyColumn}) = md5(u.k) AND md5(x.project) = md5(u.p) AND md5(x.source) = md5(u.s)`,
      values: [u.map((i) => i.key), u.map((i) => i.project), u.map((i) => i.source)],
    });
    const byKey = new Map(found.rows.map((r) => [identity({ key: r.k, project: r.p, source: r.s, ts: 0 }), r.id]));
    for (const i of unresolved) results[i] = { kind: 'duplicate', rowId: byKey.get(identity(items[i] as Keyed)) ?? -1 };
  }
  return results;
}

export interface PgIngestDeps {
  pool: Pool;
  partitions: Partitions;
  rollups: PgRollupWriter;
}

/**
 * The Store's insertBatch on PostgreSQL: one transaction for the whole batch, or nothing.
 * `withRollups: false` stores rows only (store migrate copies the rollups themselves).
 */
export async function insertBatchPg(d: PgIngestDeps, records: readonly ExtractedRecord[], rollup?: BatchRollup, o: { withRollups: boolean } = { withRollups: true }): Promise<InsertResult[]> {
  await d.partitions.ensure(new Set(records.map((r) => dayOf(r.timestamp))));
  const profiles: { i: number; r: ProfileRecord }[] = [];
  const activities: { i: number; r: ActivityRecord }[] = [];
  records.forEach((r, i) => (r.kind === 'profile' ? profiles.push({ i, r }) : activities.push({ i, r })));
  const packed = records.map(stored); // Brotli before the transaction: no locks held meanwhile

  const { results, newKeys } = await inTransaction(d.pool, async (client) => {
    const out: InsertResult[] = new Array<InsertResult>(records.length);
    const aResults = await claim(client, ACTIVITY_KEYS, activities.map(({ r }) => ({ key: r.recordKey, project: r.project, source: r.source, ts: r.timestamp })));
    const pResults = await claim(client, REQUEST_KEYS, profiles.map(({ r }) => ({ key: r.correlationId, project: r.project, source: r.source, ts: r.timestamp })));
    const newProfiles: ProfileRecord[] = [];
    const requestRows: unknown[][] = [];
    profiles.forEach(({ i, r }, j) => {
      const res = pResults[j] as InsertResult;
      out[i] = res;
      if (res.kind !== 'accepted') return;
      const p = packed[i] as PackedPayload;
      newProfiles.push(r);
      requestRows.push([res.rowId, r.project, r.source, r.correlationId, r.timestamp, r.method, r.url, r.endpoint, r.status, r.durationMs, r.host, r.sqlCount, r.sqlMs, r.isError, ENCODING_CODE[p.encoding], p.bytes, r.facts]);
    });
    const activityRows: unknown[][] = [];
    const links: { id: string[]; activity: number[]; ts: number[] } = { id: [], activity: [], ts: [] };
    activities.forEach(({ i, r }, j) => {
      const res = aResults[j] as InsertResult;
      out[i] = res;
      if (res.kind !== 'accepted') return;
      const p = packed[i] as PackedPayload;
      activityRows.push([res.rowId, r.project, r.source, r.recordKey, r.timestamp, ENCODING_CODE[p.encoding], p.bytes]);
      for (const linked of new Set(r.linkedIds)) {
        links.id.push(linked);
        links.activity.push(res.rowId);
        links.ts.push(r.timestamp);
      }
    });
    await insertRows(client, 'requests', REQUEST_COLUMNS, requestRows);
    await insertRows(client, 'db_activity', ACTIVITY_COLUMNS, activityRows);
    if (links.id.length > 0) {
      await client.query({
        name: 'bv_links_insert',
        text: 'INSERT INTO db_activity_links (correlation_id, activity_id, ts) SELECT * FROM unnest($1::text[], $2::bigint[], $3::float8[])',
        values: [links.id, links.activity, links.ts],
      });
    }
    // The worker's aggregate covers every profile of the body; it is exact only if all of them are new here.
    const agg = createRollupAggregator();
    if (!o.withRollups) {
      // rows only
    } else if (rollup && newProfiles.length === rollup.profiles) agg.addBatch(rollup);
    else for (const r of newProfiles) agg.add(rollup ? restoreSamples(r) : r);
    const keys = await d.rollups.write(client, agg.result());
    await touchProjects(client, records, out);
    return { results: out, newKeys: keys };
  });
  d.rollups.committed(newKeys);
  return results;
}

/** first_seen / last_seen per project of the accepted records; last, as it is the hottest row. */
async function touchProjects(client: PoolClient, records: readonly ExtractedRecord[], results: readonly InsertResult[]): Promise<void> {
  const seen = new Map<string, { first: number; last: number }>();
  records.forEach((r, i) => {
    if (results[i]?.kind !== 'accepted') return;
    const s = seen.get(r.project);
    if (!s) seen.set(r.project, { first: r.timestamp, last: r.timestamp });
    else {
      s.first = Math.min(s.first, r.timestamp);
      s.last = Math.max(s.last, r.timestamp);
    }
  });
  if (seen.size === 0) return;
  const names = [...seen.keys()].sort();
  await client.query({
    name: 'bv_projects_touch',
    text: `INSERT INTO projects AS p (name, first_seen, last_seen) SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[])
      ON CONFLICT (name) DO UPDATE SET first_seen = least(p.first_seen, excluded.first_seen), last_seen = greatest(p.last_seen, excluded.last_seen)`,
    values: [names, names.map((n) => seen.get(n)?.first), names.map((n) => seen.get(n)?.last)],
  });
}
