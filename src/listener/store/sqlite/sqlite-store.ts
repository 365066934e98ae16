import Database from 'better-sqlite3';
import type { ExtractedRecord, ProfileRecord } from '../../extract/extract-record.js';
import type { BatchRollup } from '../batch-rollup.js';
import { restoreSamples } from '../lean-records.js';
import type { InsertResult, ProjectScope, SearchPage, SearchQuery, Store, StoredActivity, StoredRequest } from '../store.js';
import { migrate } from './migrations.js';
import { createRollupWriter, MINUTE } from './rollup-writer.js';
import { createSqliteStats } from './sqlite-stats.js';
import { buildSearch } from './search-sql.js';
import { cappedCountSql, toSearchPage } from '../search-page.js';
import { createSqliteExport } from './sqlite-export.js';
import { ENCODING_CODE, packPayload, unpackPayload, type PackedPayload } from '../payload-codec.js';

export interface SqliteStoreOptions {
  /** Database file; created with its directory's permissions. */
  file: string;
  /** Wait this long for a lock before failing a statement. Default 5000 ms. */
  busyTimeoutMs?: number;
}

/** Payload rows carry their encoding (payload-codec.ts); the store hands out the received bytes. */
interface Encoded {
  encoding: number;
}

/** Bodies that arrive uncompressed (single-object routes, UDP, direct callers) are packed here. */
function stored(r: ExtractedRecord): PackedPayload {
  return r.bodyEncoding === 'identity' ? packPayload(r.body) : { encoding: r.bodyEncoding, bytes: r.body };
}

const SUMMARY_COLUMNS = 'id, correlation_id, project, ts AS timestamp, method, url, status, duration_ms, host, sql_count, sql_ms';

/**
 * SQLite store: WAL so readers never block the writer, one transaction per ingest batch,
 * synchronous=FULL because the daemon deletes its spool once we answer 200. better-sqlite3 is
 * synchronous, so every call runs to completion on the event loop; batches and retention steps
 * are kept small for that reason.
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const db = new Database(options.file, { timeout: options.busyTimeoutMs ?? 5000 });
  const fresh = (db.pragma('page_count', { simple: true }) as number) === 0;
  if (fresh) db.pragma('auto_vacuum = INCREMENTAL'); // must precede the first table; lets retention give pages back
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = OFF');
  db.pragma('cache_size = -65536'); // 64 MiB page cache
  db.pragma('temp_store = MEMORY');
  db.pragma('wal_autocheckpoint = 4096'); // 16 MiB of WAL between checkpoints: fewer, larger copies back into the file
  migrate(db);
  db.pragma('optimize = 0x10002');

  const rollups = createRollupWriter(db);
  const exports = createSqliteExport(db);
  const stats = createSqliteStats(db);
  const insertRequest = db.prepare(`
    INSERT INTO requests(project, source, correlation_id, ts, method, url, endpoint, status, duration_ms, host, sql_count, sql_ms, is_error)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
  const existingRequest = db.prepare('SELECT id FROM requests WHERE correlation_id = ? AND project = ? AND source = ?').pluck();
  const insertPayload = db.prepare('INSERT INTO payloads(id, body, encoding, facts) VALUES (?, ?, ?, ?)');
  const insertActivity = db.prepare('INSERT INTO db_activity(project, source, record_key, ts, body, encoding) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
  const existingActivity = db.prepare('SELECT id FROM db_activity WHERE record_key = ? AND project = ? AND source = ?').pluck();
  const insertLink = db.prepare('INSERT OR IGNORE INTO db_activity_links(correlation_id, activity_id) VALUES (?, ?)');
  const touchProject = db.prepare(`
    INSERT INTO projects(name, first_seen, last_seen) VALUES (?, ?, ?)
    ON CONFLICT(name) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`);

  const insertAll = db.transaction((records: readonly ExtractedRecord[], rollup: BatchRollup | undefined): InsertResult[] => {
    const results: InsertResult[] = [];
    const newProfiles: ProfileRecord[] = [];
    const seen = new Map<string, { first: number; last: number }>();
    for (const r of records) {
      if (r.kind === 'profile') {
        const info = insertRequest.run(r.project, r.source, r.correlationId, r.timestamp, r.method, r.url, r.endpoint, r.status, r.durationMs, r.host, r.sqlCount, r.sqlMs, r.isError ? 1 : 0);
        if (info.changes === 0) {
          results.push({ kind: 'duplicate', rowId: existingRequest.get(r.correlationId, r.project, r.source) as number });
          continue;
        }
        const id = Number(info.lastInsertRowid);
        const p = stored(r);
        insertPayload.run(id, p.bytes, ENCODING_CODE[p.encoding], r.facts);
        if (rollup) newProfiles.push(r);
        else rollups.add(r);
        results.push({ kind: 'accepted', rowId: id });
      } else {
        const p = stored(r);
        const info = insertActivity.run(r.project, r.source, r.recordKey, r.timestamp, p.bytes, ENCODING_CODE[p.encoding]);
        if (info.changes === 0) {
          results.push({ kind: 'duplicate', rowId: existingActivity.get(r.recordKey, r.project, r.source) as number });
          continue;
        }
        const id = Number(info.lastInsertRowid);
        for (const linked of r.linkedIds) insertLink.run(linked, id);
        results.push({ kind: 'accepted', rowId: id });
      }
      const s = seen.get(r.project);
      if (!s) seen.set(r.project, { first: r.timestamp, last: r.timestamp });
      else {
        s.first = Math.min(s.first, r.timestamp);
        s.last = Math.max(s.last, r.timestamp);
      }
    }
    if (rollup) {
      // The worker's aggregate covers every profile of the body; it is exact only if all of them are new here.
      if (newProfiles.length === rollup.profiles) rollups.addBatch(rollup);
      else for (const r of newProfiles) rollups.add(restoreSamples(r));
    }
    rollups.flush();
    for (const [project, s] of seen) touchProject.run(project, s.first, s.last);
    return results;
  });

  const getByIdAll = db.prepare(`SELECT ${SUMMARY_COLUMNS}, endpoint, p.body, p.encoding FROM requests r JOIN payloads p USING (id) WHERE correlation_id = ? ORDER BY ts DESC, id DESC`);
  const activityFor = db.prepare(`
    SELECT a.project, a.source, a.ts AS timestamp, a.body, a.encoding FROM db_activity_links l JOIN db_activity a ON a.id = l.activity_id
    WHERE l.correlation_id = ? AND a.project = ? ORDER BY a.ts, a.id LIMIT ?`);
  const recent = db.prepare(`
    SELECT p.body, p.encoding FROM requests r JOIN payloads p USING (id)
    WHERE r.project = ? AND r.endpoint = ? AND r.ts <= ? AND r.id != ? ORDER BY r.ts DESC, r.id DESC LIMIT ?`);
  const projectRows = db.prepare('SELECT name AS project, first_seen, last_seen FROM projects ORDER BY name');
  // Never the newest row: SQLite would hand its rowid out again, behind every export cursor.
  const oldRequests = db.prepare('SELECT id FROM requests WHERE ts < ? AND id < (SELECT max(id) FROM requests) ORDER BY ts LIMIT ?').pluck();
  const deleteRequest = db.prepare('DELETE FROM requests WHERE id = ?');
  const deletePayload = db.prepare('DELETE FROM payloads WHERE id = ?');
  const oldActivity = db.prepare('SELECT id FROM db_activity WHERE ts < ? AND id < (SELECT max(id) FROM db_activity) ORDER BY ts LIMIT ?').pluck();
  const deleteActivity = db.prepare('DELETE FROM db_activity WHERE id = ?');
  const deleteLinks = db.prepare('DELETE FROM db_activity_links WHERE activity_id = ?');
  const deleteRollups = db.prepare(`
    DELETE FROM rollups WHERE (project, kind, res, t, key_id) IN (
      SELECT project, kind, res, t, key_id FROM rollups WHERE t <= ? AND t + res <= ? LIMIT ?)`);
  const deleteOld = db.transaction((cutoff: number, maxRows: number): number => {
    let deleted = 0;
    const requestIds = oldRequests.all(cutoff, maxRows) as number[];
    for (const id of requestIds) {
      deleteRequest.run(id);
      deletePayload.run(id);
      deleted++;
    }
    exports.countDropped('profile', requestIds);
    const activityIds = oldActivity.all(cutoff, maxRows) as number[];
    for (const id of activityIds) {
      deleteLinks.run(id);
      deleteActivity.run(id);
      deleted++;
    }
    exports.countDropped('activity', activityIds);
    deleted += deleteRollups.run(cutoff - MINUTE, cutoff, maxRows).changes; // t <= cutoff - 60 lets the index on t bound the scan
    return deleted;
  });
  const countRequests = db.prepare('SELECT count(*) FROM requests').pluck();
  const countActivity = db.prepare('SELECT count(*) FROM db_activity').pluck();
  const statementCache = new Map<string, Database.Statement>();
  function cached(sql: string): Database.Statement {
    let s = statementCache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      if (statementCache.size > 500) statementCache.clear();
      statementCache.set(sql, s);
    }
    return s;
  }
  let closed = false;

  return {
    async insertBatch(records, rollup) {
      try {
        return insertAll(records, rollup);
      } catch (err) {
        rollups.reset();
        throw err;
      }
    },

    async search(query: SearchQuery): Promise<SearchPage> {
      const built = buildSearch(query, query.cursor ?? null);
      const rows = cached(`SELECT ${SUMMARY_COLUMNS} FROM requests WHERE ${built.where} ORDER BY ts DESC, id DESC LIMIT ?`).all(
        ...built.params,
        query.limit + 1,
      ) as (StoredRequest & { id: number })[];
      const total = cached(cappedCountSql(built.countWhere)).pluck().get(...built.countParams) as number;
      return toSearchPage(rows, query.limit, total);
    },

    async getRequest(projects: ProjectScope, correlationId: string) {
      for (const { encoding, ...row } of getByIdAll.all(correlationId) as (StoredRequest & Encoded)[]) {
        if (projects === null || projects.includes(row.project)) return { ...row, body: unpackPayload(encoding, row.body) };
      }
      return null;
    },

    async dbActivity(project, correlationId, limit) {
      return (activityFor.all(correlationId, project, limit) as (StoredActivity & Encoded)[]).map(({ encoding, ...a }) => ({ ...a, body: unpackPayload(encoding, a.body) }));
    },

    async activityInWindow(window, sources, limit) {
      if (sources.length === 0 || (window.projects !== null && window.projects.length === 0)) return [];
      const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');
      const byProject = window.projects === null ? '' : ` AND project IN (${marks(window.projects.length)})`;
      const rows = db
        .prepare(`SELECT project, source, ts AS timestamp, body, encoding FROM db_activity WHERE ts >= ? AND ts < ? AND source IN (${marks(sources.length)})${byProject} ORDER BY ts LIMIT ?`)
        .all(window.from, window.to, ...sources, ...(window.projects ?? []), limit) as (StoredActivity & Encoded)[];
      return rows.map(({ encoding, ...a }) => ({ ...a, body: unpackPayload(encoding, a.body) }));
    },

    async recentPayloads(project, endpoint, beforeTs, excludeId, limit) {
      return (recent.all(project, endpoint, beforeTs, excludeId, limit) as { body: Buffer; encoding: number }[]).map((r) => unpackPayload(r.encoding, r.body));
    },

    async endpointHistogram(project, endpoint, window) {
      return stats.keyHistogram(project, 'e', endpoint, window.from, window.to);
    },

    async stats(kind, window, limit) {
      return stats.stats(kind, window, limit);
    },

    async keyDetail(kind, key, window, stepS) {
      return stats.keyDetail(kind, key, window, stepS);
    },

    async timeseries(window, stepS) {
      return stats.timeseries(window, stepS);
    },

    async projects(projects) {
      const rows = projectRows.all() as { project: string; first_seen: number; last_seen: number }[];
      return projects === null ? rows : rows.filter((r) => projects.includes(r.project));
    },

    async deleteOlderThan(cutoff, maxRows) {
      try {
        return deleteOld(cutoff, maxRows);
      } finally {
        rollups.reset(); // its cached histograms may belong to rows just deleted
      }
    },

    async reclaimSpace() {
      db.pragma('incremental_vacuum(2000)'); // at most ~8 MiB per call, so no long lock
      db.pragma('wal_checkpoint(PASSIVE)');
    },

    async ping() {
      db.prepare('SELECT 1').get();
    },

    async counts() {
      return { requests: countRequests.get() as number, db_activity: countActivity.get() as number };
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
      try {
        db.pragma('optimize');
      } finally {
        db.close();
      }
    },
  };
}
