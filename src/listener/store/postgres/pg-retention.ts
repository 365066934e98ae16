import type { Pool } from 'pg';
import type { PgExport } from './pg-export.js';
import { DAY_S, type Partitions } from './pg-partitions.js';
import { inTransaction } from './pg-tx.js';

/** Row deletes, each bounded by `$2` rows so no statement holds locks for long. */
const BOUNDED = (table: string, older: string): string => `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE ${older} LIMIT $2::int))`;
const DEFAULT_ROWS = [
  // After their rows (DEFAULT_DATA), so a payload never goes before its row.
  BOUNDED('request_bodies_default', 'ts < $1'),
  BOUNDED('db_activity_links_default', 'ts < $1'),
  BOUNDED('rollups_default', 't + res <= $1::float8'),
];
/** Default-partition rows exporters may not have sent yet: counted (pg-export.ts) in the delete's transaction. */
const DEFAULT_DATA = [
  { stream: 'profile', table: 'requests_default' },
  { stream: 'activity', table: 'db_activity_default' },
] as const;
/**
 * Keys of rows that are gone. Only those: a batch of old profiles can commit between this step and
 * the data deletes above, and a key deleted before its row would let that row leave uncounted by
 * the exporters (countDropped walks the keys).
 */
const KEY_ROWS = [
  BOUNDED('request_keys', 'ts < $1 AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.ts = request_keys.ts AND r.id = request_keys.id)'),
  BOUNDED('activity_keys', 'ts < $1 AND NOT EXISTS (SELECT 1 FROM db_activity r WHERE r.ts = activity_keys.ts AND r.id = activity_keys.id)'),
];

/**
 * One retention step (the Store's deleteOlderThan; retention.ts calls it until it returns 0):
 * first whole day partitions older than the cutoff go (DROP TABLE: no row-by-row delete, space
 * back at once), one day per call; then the few rows the DEFAULT partitions hold; then the
 * idempotency keys of rows that are gone. Keys go last and never past the oldest day still
 * stored, so a late retry of a stored profile is still recognised as a duplicate.
 */
export async function deleteExpired(pool: Pool, partitions: Partitions, cutoff: number, maxRows: number, exports: PgExport): Promise<number> {
  const dropped = await partitions.dropOneDay(cutoff, async (client, table, partition) => {
    if (table === 'requests') await exports.countDropped(client, 'profile', partition, 'true', []);
    if (table === 'db_activity') await exports.countDropped(client, 'activity', partition, 'true', []);
  });
  if (dropped !== null) return Math.max(dropped, 1);
  let n = 0;
  for (const d of DEFAULT_DATA) {
    // The rows picked once (a temp table of their ctids), counted for the exporters, then deleted, in one transaction.
    n += await inTransaction(pool, async (c) => {
      await c.query('CREATE TEMP TABLE IF NOT EXISTS bv_gone (gone tid) ON COMMIT DELETE ROWS');
      await c.query(`INSERT INTO bv_gone SELECT ctid FROM ${d.table} WHERE ts < $1 LIMIT $2`, [cutoff, maxRows]);
      await exports.countDropped(c, d.stream, d.table, 'r.ctid IN (SELECT gone FROM bv_gone)', []);
      return (await c.query(`DELETE FROM ${d.table} WHERE ctid IN (SELECT gone FROM bv_gone)`)).rowCount ?? 0;
    });
  }
  for (const sql of DEFAULT_ROWS) n += (await pool.query(sql, [cutoff, maxRows])).rowCount ?? 0;
  const oldest = partitions.days()[0];
  const keyCutoff = Math.min(cutoff, oldest === undefined ? cutoff : oldest * DAY_S);
  for (const sql of KEY_ROWS) n += (await pool.query(sql, [keyCutoff, maxRows])).rowCount ?? 0;
  return n;
}
