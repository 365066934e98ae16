import pg from 'pg';
import type { Logger } from 'pino';
import { unpackPayload } from '../payload-codec.js';
import type { ProjectScope, RequestSummary, SearchPage, Store, StoredActivity, StoredRequest } from '../store.js';
import type { PgTarget } from './pg-connection.js';
import { describePgError } from './pg-errors.js';
import { cappedCountSql, toSearchPage } from '../search-page.js';
import { insertBatchPg } from './pg-ingest.js';
import { migrate } from './pg-migrate.js';
import { PG_SCHEMA_VERSION } from './pg-schema.js';
import { createPartitions, type Partitions } from './pg-partitions.js';
import { createPgRollupWriter, type PgRollupWriter } from './pg-rollup-writer.js';
import { buildPgSearch } from './pg-search.js';
import { createPgStats } from './pg-stats.js';
import { PG_TYPES } from './pg-types.js';
import { deleteExpired } from './pg-retention.js';
import { createPgExport } from './pg-export.js';

export interface PostgresStoreOptions {
  target: PgTarget;
  retentionDays: number;
  partitionsAhead: number;
  log: Logger;
  now?: () => number;
}

const SUMMARY = 'id, correlation_id, project, ts AS timestamp, method, url, status, duration_ms, host, sql_count, sql_ms';
type Row<T> = T & { encoding: number };

export interface PgDatabase {
  pool: pg.Pool;
  partitions: Partitions;
  rollups: PgRollupWriter;
  /** A hot standby: reads only. */
  readOnly: boolean;
}

/** Connects, migrates (advisory lock) and creates today's and the next days' partitions. */
export async function openPgDatabase(o: PostgresStoreOptions): Promise<PgDatabase> {
  const now = o.now ?? Date.now;
  const pool = new pg.Pool({ ...o.target.pool, types: PG_TYPES });
  // An idle connection that the server closed (restart, failover) must not crash the process.
  pool.on('error', (err) => o.log.warn({ err: err.message }, 'PostgreSQL connection lost; the pool reconnects on next use'));
  const partitions = createPartitions({ pool, ahead: o.partitionsAhead, retentionDays: o.retentionDays, now });
  let readOnly = false;
  try {
    readOnly = (await pool.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]?.r === true;
    if (readOnly) await checkReplicaSchema(pool);
    else {
      const m = await migrate(pool);
      if (m.applied.length > 0) o.log.info({ applied: m.applied, version: m.version, database: o.target.display }, 'PostgreSQL schema migrated');
    }
    await partitions.refresh();
    if (!readOnly) await partitions.createAhead();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(describePgError(err, o.target));
  }
  if (readOnly) o.log.warn({ database: o.target.display }, 'PostgreSQL is a read-only replica: serving reads; ingest answers 503, retention is left to the primary');
  return { pool, partitions, rollups: createPgRollupWriter(), readOnly };
}

/** A hot standby cannot migrate: its schema must already be this listener's (the primary's listeners migrate it). */
async function checkReplicaSchema(pool: pg.Pool): Promise<void> {
  const r = await pool.query<{ v: number | null }>("SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN NULL ELSE (SELECT max(version) FROM schema_migrations) END AS v");
  const v = r.rows[0]?.v ?? 0;
  if (v !== PG_SCHEMA_VERSION) {
    throw new Error(`this database is a read-only replica with schema version ${v}, this listener needs ${PG_SCHEMA_VERSION}: start a listener on the primary first (it migrates), then this one`);
  }
}

/**
 * PostgreSQL store (DESIGN section 11): any number of listeners on one database. Opening it
 * connects, migrates and creates partitions; a failure there is a start-up error that names the
 * key and what to do (pg-errors.ts). After start, an unreachable database makes calls throw,
 * which the HTTP layer answers with 503 and Retry-After; the pool reconnects by itself when the
 * database is back.
 */
export async function openPostgresStore(o: PostgresStoreOptions): Promise<Store> {
  const { pool, partitions, rollups, readOnly } = await openPgDatabase(o);
  const exports = createPgExport(pool, o.target.pool, o.now ?? Date.now);
  const stats = createPgStats(pool);
  let closed = false;
  const q = async <T extends object>(name: string, text: string, values: unknown[]): Promise<T[]> => (await pool.query<T>({ name, text, values })).rows;
  // Searches are planned for their values each time (an unnamed statement). A named one switches
  // to a generic plan after five runs, and for status + host that plan walked 870,000 rows of a
  // 1 M store newest first instead of the status index (1.2 s instead of ~10 ms; planning ~1 ms).
  const custom = async <T extends object>(text: string, values: unknown[]): Promise<T[]> => (await pool.query<T>({ text, values })).rows;

  return {
    insertBatch: (records, rollup) => insertBatchPg({ pool, partitions, rollups }, records, rollup),

    async search(query): Promise<SearchPage> {
      const built = buildPgSearch(query, query.cursor ?? null);
      const page = `SELECT ${SUMMARY} FROM requests WHERE ${built.where} ORDER BY ts DESC, id DESC LIMIT $${built.params.length + 1}`;
      const rows = await custom<RequestSummary & { id: number }>(page, [...built.params, query.limit + 1]);
      const total = (await custom<{ n: string }>(cappedCountSql(built.countWhere), built.countParams))[0]?.n ?? '0'; // bigint: pg hands it over as text
      return toSearchPage(rows, query.limit, Number(total));
    },

    async getRequest(projects: ProjectScope, correlationId: string) {
      const rows = await q<Row<StoredRequest>>(
        'bv_request_detail',
        `SELECT r.id, r.correlation_id, r.project, r.ts AS timestamp, r.method, r.url, r.status, r.duration_ms, r.host, r.sql_count, r.sql_ms, r.endpoint, b.body, b.encoding
         FROM request_keys k JOIN requests r ON r.ts = k.ts AND r.id = k.id JOIN request_bodies b ON b.ts = r.ts AND b.id = r.id
         WHERE md5(k.correlation_id) = md5($1) AND k.correlation_id = $1 ORDER BY r.ts DESC, r.id DESC`,
        [correlationId],
      );
      for (const { encoding, ...row } of rows) {
        if (projects === null || projects.includes(row.project)) return { ...row, body: unpackPayload(encoding, row.body) };
      }
      return null;
    },

    async dbActivity(project, correlationId, limit) {
      const rows = await q<Row<StoredActivity>>(
        'bv_activity_for',
        `SELECT a.project, a.source, a.ts AS timestamp, a.body, a.encoding FROM db_activity_links l JOIN db_activity a ON a.ts = l.ts AND a.id = l.activity_id
         WHERE md5(l.correlation_id) = md5($1) AND l.correlation_id = $1 AND a.project = $2 ORDER BY a.ts, a.id LIMIT $3`,
        [correlationId, project, limit],
      );
      return rows.map(({ encoding, ...a }) => ({ ...a, body: unpackPayload(encoding, a.body) }));
    },

    async activityInWindow(window, sources, limit) {
      if (sources.length === 0 || (window.projects !== null && window.projects.length === 0)) return [];
      // Partition pruning on ts; the (ts, id) index gives the order.
      const rows = await q<Row<StoredActivity>>(
        'bv_activity_window',
        `SELECT project, source, ts AS timestamp, body, encoding FROM db_activity
         WHERE ts >= $1 AND ts < $2 AND source = ANY($3::text[]) AND ($4::text[] IS NULL OR project = ANY($4::text[]))
         ORDER BY ts, id LIMIT $5`,
        [window.from, window.to, [...sources], window.projects === null ? null : [...window.projects], limit],
      );
      return rows.map(({ encoding, ...a }) => ({ ...a, body: unpackPayload(encoding, a.body) }));
    },

    async recentPayloads(project, endpoint, beforeTs, excludeId, limit) {
      const rows = await q<{ body: Buffer; encoding: number }>(
        'bv_recent_payloads',
        // The newest rows first, then their payloads: joined before the LIMIT, the planner (which
        // cannot estimate the (ts, id) join) fetched the payload of every row of the endpoint.
        `SELECT b.body, b.encoding FROM (
           SELECT ts, id FROM requests WHERE project = $1 AND md5(endpoint) = md5($2) AND endpoint = $2 AND ts <= $3 AND id <> $4
           ORDER BY ts DESC, id DESC LIMIT $5) r
         JOIN request_bodies b ON b.ts = r.ts AND b.id = r.id ORDER BY r.ts DESC, r.id DESC`,
        [project, endpoint, beforeTs, excludeId, limit],
      );
      return rows.map((r) => unpackPayload(r.encoding, r.body));
    },

    endpointHistogram: (project, endpoint, window) => stats.keyHistogram(project, 'e', endpoint, window.from, window.to),
    stats: (kind, window, limit) => stats.stats(kind, window, limit),
    keyDetail: (kind, key, window, stepS) => stats.keyDetail(kind, key, window, stepS),
    timeseries: (window, stepS) => stats.timeseries(window, stepS),

    async projects(projects) {
      const rows = await q<{ project: string; first_seen: number; last_seen: number }>('bv_projects', 'SELECT name AS project, first_seen, last_seen FROM projects ORDER BY name COLLATE "C"', []);
      return projects === null ? rows : rows.filter((r) => projects.includes(r.project));
    },

    async deleteOlderThan(cutoff, maxRows) {
      if (readOnly) return 0; // the primary's listeners run retention
      await partitions.createAhead(); // hourly with retention: tomorrow's partitions exist well before midnight
      return deleteExpired(pool, partitions, cutoff, maxRows, exports);
    },

    // Dropped partitions give their space back at once; row deletes are left to autovacuum.
    async reclaimSpace() {},

    async ping() {
      await pool.query('SELECT 1');
    },

    async counts() {
      const r = await q<{ requests: number; db_activity: number }>('bv_counts', 'SELECT (SELECT count(*) FROM requests) AS requests, (SELECT count(*) FROM db_activity) AS db_activity', []);
      return r[0] ?? { requests: 0, db_activity: 0 };
    },

    activateExporters: exports.activateExporters,
    exportCursor: exports.exportCursor,
    readForExport: exports.readForExport,
    saveExportCursor: exports.saveExportCursor,
    exportBacklog: exports.exportBacklog,
    exportLease: exports.exportLease,

    async close() {
      if (closed) return;
      closed = true;
      await exports.close();
      await pool.end();
    },
  };
}
