import Database from 'better-sqlite3';
import type { ActivityRecord, ProfileRecord } from '../../extract/extract-record.js';
import type { RollupCell, RollupKind } from '../batch-rollup.js';
import { addEncoded } from '../histogram-blob.js';
import { encodingOfCode, type PayloadEncoding } from '../payload-codec.js';
import type { ProjectSummary } from '../store.js';

/** A rollup row's position in primary-key order: where a resumed copy goes on from. */
export type RollupPosition = [project: string, kind: string, res: number, t: number, keyId: number];

export interface SqliteReader {
  /** Profiles with id > afterId, in id order; queries and functions empty (the payload has them). */
  profiles(afterId: number, limit: number): { id: number; record: ProfileRecord }[];
  activity(afterId: number, limit: number): { id: number; record: ActivityRecord }[];
  rollups(after: RollupPosition | null, limit: number): { position: RollupPosition; cell: RollupCell }[];
  projects(): ProjectSummary[];
  counts(): { requests: number; activity: number; rollups: number };
  close(): void;
}

function encoding(code: number): PayloadEncoding {
  const e = encodingOfCode(code);
  if (!e) throw new Error(`payload encoding ${code} is unknown to this version: upgrade bitville-apm`);
  return e;
}

/** Reads a SQLite store (read-only, beside a running listener if need be) for `store migrate`. */
export function openSqliteReader(file: string): SqliteReader {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version < 2) {
    db.close();
    throw new Error(`${file}: not a listener database of a known version (user_version ${version}); open it once with this version's listener first`);
  }
  const profileRows = db.prepare(`
    SELECT r.id, r.project, r.source, r.correlation_id, r.ts, r.method, r.url, r.endpoint, r.status, r.duration_ms, r.host, r.sql_count, r.sql_ms, r.is_error, p.body, p.encoding,
           ${version >= 4 ? 'p.facts' : 'NULL AS facts'}
    FROM requests r JOIN payloads p USING (id) WHERE r.id > ? ORDER BY r.id LIMIT ?`);
  const activityRows = db.prepare('SELECT id, project, source, record_key, ts, body, encoding FROM db_activity WHERE id > ? ORDER BY id LIMIT ?');
  const links = db.prepare('SELECT correlation_id FROM db_activity_links WHERE activity_id = ? ORDER BY correlation_id').pluck();
  const rollupCols = 'r.project, r.kind, r.res, r.t, r.key_id, r.count, r.total_ms, r.max_ms, r.errors, r.calls, r.self_ms, r.self_count, r.hist, coalesce(k.text, \'\') AS text';
  const rollupFirst = db.prepare(`SELECT ${rollupCols} FROM rollups r LEFT JOIN rollup_keys k ON k.id = r.key_id ORDER BY r.project, r.kind, r.res, r.t, r.key_id LIMIT ?`);
  const rollupNext = db.prepare(`SELECT ${rollupCols} FROM rollups r LEFT JOIN rollup_keys k ON k.id = r.key_id
    WHERE (r.project, r.kind, r.res, r.t, r.key_id) > (?, ?, ?, ?, ?) ORDER BY r.project, r.kind, r.res, r.t, r.key_id LIMIT ?`);

  type P = { id: number; project: string; source: string; correlation_id: string; ts: number; method: string; url: string; endpoint: string; status: number | null; duration_ms: number; host: string; sql_count: number; sql_ms: number; is_error: number; body: Buffer; encoding: number; facts: string | null };
  type A = { id: number; project: string; source: string; record_key: string; ts: number; body: Buffer; encoding: number };
  type R = { project: string; kind: RollupKind; res: number; t: number; key_id: number; count: number; total_ms: number; max_ms: number; errors: number; calls: number; self_ms: number; self_count: number; hist: Buffer; text: string };

  return {
    profiles(afterId, limit) {
      return (profileRows.all(afterId, limit) as P[]).map((r) => ({
        id: r.id,
        record: {
          kind: 'profile', project: r.project, source: r.source, correlationId: r.correlation_id, timestamp: r.ts, method: r.method, url: r.url, endpoint: r.endpoint,
          status: r.status, durationMs: r.duration_ms, host: r.host, sqlCount: r.sql_count, sqlMs: r.sql_ms, isError: r.is_error === 1, queries: [], functions: [],
          facts: r.facts, body: r.body, bodyEncoding: encoding(r.encoding),
        },
      }));
    },
    activity(afterId, limit) {
      return (activityRows.all(afterId, limit) as A[]).map((r) => ({
        id: r.id,
        record: { kind: 'activity', project: r.project, source: r.source, recordKey: r.record_key, timestamp: r.ts, linkedIds: links.all(r.id) as string[], body: r.body, bodyEncoding: encoding(r.encoding) },
      }));
    },
    rollups(after, limit) {
      const rows = (after ? rollupNext.all(...after, limit) : rollupFirst.all(limit)) as R[];
      return rows.map((r) => {
        const counts = new Map<number, number>();
        addEncoded(counts, r.hist);
        return {
          position: [r.project, r.kind, r.res, r.t, r.key_id],
          cell: { project: r.project, kind: r.kind, res: r.res, t: r.t, key: r.text, counts, count: r.count, totalMs: r.total_ms, maxMs: r.max_ms, errors: r.errors, calls: r.calls, selfMs: r.self_ms, selfCount: r.self_count },
        };
      });
    },
    projects: () => db.prepare('SELECT name AS project, first_seen, last_seen FROM projects ORDER BY name').all() as ProjectSummary[],
    counts: () => ({
      requests: db.prepare('SELECT count(*) FROM requests').pluck().get() as number,
      activity: db.prepare('SELECT count(*) FROM db_activity').pluck().get() as number,
      rollups: db.prepare('SELECT count(*) FROM rollups').pluck().get() as number,
    }),
    close: () => db.close(),
  };
}
