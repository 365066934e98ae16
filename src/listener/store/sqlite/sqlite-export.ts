import type { Database, Statement } from 'better-sqlite3';
import { EXPORT_STREAMS, type ExportCursorState, type ExportRow, type ExportStream, type Store } from '../store.js';

type ExportMethods = Pick<Store, 'activateExporters' | 'exportCursor' | 'readForExport' | 'saveExportCursor' | 'exportBacklog' | 'exportLease'>;

export interface SqliteExport extends ExportMethods {
  /**
   * Inside retention's delete transaction: adds to each enabled exporter's dropped count the deleted
   * rows it had not sent yet (rowid above its position).
   */
  countDropped(stream: ExportStream, deletedIds: readonly number[]): void;
}

interface CursorRow {
  stream: ExportStream;
  position: number;
  in_flight: number;
  dropped_retention: number;
}

interface ProfileExportRow {
  id: number;
  project: string;
  source: string;
  correlation_id: string;
  ts: number;
  method: string;
  url: string;
  endpoint: string;
  status: number | null;
  duration_ms: number;
  host: string;
  sql_count: number;
  sql_ms: number;
  is_error: number;
  body: Buffer;
  encoding: number;
  facts: string | null;
}

interface ActivityExportRow {
  id: number;
  project: string;
  source: string;
  record_key: string;
  ts: number;
  body: Buffer;
  encoding: number;
}

/** Positions are rowids: they only grow, because retention never deletes a table's newest row. */
export function createSqliteExport(db: Database, now: () => number = Date.now): SqliteExport {
  const cursorRows = db.prepare('SELECT stream, position, in_flight, dropped_retention FROM export_cursors WHERE exporter = ?');
  const insertCursor = db.prepare('INSERT OR IGNORE INTO export_cursors(exporter, stream, position, updated_at) VALUES (?, ?, ?, ?)');
  const deactivateAll = db.prepare('UPDATE export_cursors SET active = 0');
  const activate = db.prepare('UPDATE export_cursors SET active = 1 WHERE exporter = ?');
  const save = db.prepare('UPDATE export_cursors SET position = ?, in_flight = ?, updated_at = ? WHERE exporter = ? AND stream = ?');
  const activeCursors = db.prepare('SELECT exporter, position FROM export_cursors WHERE active = 1 AND stream = ?');
  const addDropped = db.prepare('UPDATE export_cursors SET dropped_retention = dropped_retention + ? WHERE exporter = ? AND stream = ?');
  const maxId: Record<ExportStream, Statement<unknown[]>> = {
    profile: db.prepare('SELECT coalesce(max(id), 0) FROM requests').pluck(),
    activity: db.prepare('SELECT coalesce(max(id), 0) FROM db_activity').pluck(),
  };
  const sizes: Record<ExportStream, Statement<unknown[]>> = {
    profile: db.prepare('SELECT id, length(body) AS bytes FROM payloads WHERE id > ? ORDER BY id LIMIT ?'),
    activity: db.prepare('SELECT id, length(body) AS bytes FROM db_activity WHERE id > ? ORDER BY id LIMIT ?'),
  };
  const readProfiles = db.prepare(`
    SELECT r.id, r.project, r.source, r.correlation_id, r.ts, r.method, r.url, r.endpoint, r.status, r.duration_ms, r.host,
           r.sql_count, r.sql_ms, r.is_error, p.body, p.encoding, p.facts
    FROM requests r JOIN payloads p USING (id) WHERE r.id > ? AND r.id <= ? ORDER BY r.id`);
  const readActivity = db.prepare('SELECT id, project, source, record_key, ts, body, encoding FROM db_activity WHERE id > ? AND id <= ? ORDER BY id');
  const backlog: Record<ExportStream, Statement<unknown[]>> = {
    profile: db.prepare('SELECT count(*) FROM requests WHERE id > ?').pluck(),
    activity: db.prepare('SELECT count(*) FROM db_activity WHERE id > ?').pluck(),
  };

  function state(exporter: string): ExportCursorState | null {
    const rows = cursorRows.all(exporter) as CursorRow[];
    if (rows.length === 0) return null;
    const s: ExportCursorState = { exporter, position: { profile: '0', activity: '0' }, droppedByRetention: { profile: 0, activity: 0 }, inFlight: { profile: 0, activity: 0 } };
    for (const r of rows) {
      s.position[r.stream] = String(r.position);
      s.droppedByRetention[r.stream] = r.dropped_retention;
      s.inFlight[r.stream] = r.in_flight;
    }
    return s;
  }

  const activateAll = db.transaction((exporters: readonly { name: string; startAt: 'beginning' | 'end' }[]) => {
    deactivateAll.run();
    for (const e of exporters) {
      for (const stream of EXPORT_STREAMS) insertCursor.run(e.name, stream, e.startAt === 'end' ? (maxId[stream].get() as number) : 0, now() / 1000);
      activate.run(e.name);
    }
    return exporters.map((e) => state(e.name) as ExportCursorState);
  });

  return {
    async activateExporters(exporters) {
      return activateAll(exporters);
    },
    async exportCursor(exporter) {
      return state(exporter);
    },
    async readForExport(stream, after, limit, maxBytes) {
      // Sizes first (length() of a blob reads no overflow pages), so one batch of several-MB payloads stays bounded.
      const sized = sizes[stream].all(Number(after), limit) as { id: number; bytes: number }[];
      if (sized.length === 0) return [];
      let total = 0;
      let last = (sized[0] as { id: number }).id;
      for (const s of sized) {
        if (total > 0 && total + s.bytes > maxBytes) break;
        total += s.bytes;
        last = s.id;
      }
      if (stream === 'profile') {
        return (readProfiles.all(Number(after), last) as ProfileExportRow[]).map(
          (r): ExportRow => ({
            stream,
            position: String(r.id),
            project: r.project,
            source: r.source,
            key: r.correlation_id,
            timestamp: r.ts,
            profile: { method: r.method, url: r.url, endpoint: r.endpoint, status: r.status, duration_ms: r.duration_ms, host: r.host, sql_count: r.sql_count, sql_ms: r.sql_ms, is_error: r.is_error === 1 },
            stored: r.body,
            encoding: r.encoding,
            facts: r.facts,
          }),
        );
      }
      return (readActivity.all(Number(after), last) as ActivityExportRow[]).map(
        (r): ExportRow => ({ stream, position: String(r.id), project: r.project, source: r.source, key: r.record_key, timestamp: r.ts, profile: null, stored: r.body, encoding: r.encoding, facts: null }),
      );
    },
    async saveExportCursor(exporter, stream, position, inFlight) {
      save.run(Number(position), inFlight, now() / 1000, exporter, stream);
    },
    async exportBacklog(stream, after) {
      return backlog[stream].get(Number(after)) as number;
    },
    async exportLease() {
      return true; // one listener per SQLite file
    },
    countDropped(stream, deletedIds) {
      if (deletedIds.length === 0) return;
      for (const c of activeCursors.all(stream) as { exporter: string; position: number }[]) {
        let n = 0;
        for (const id of deletedIds) if (id > c.position) n++;
        if (n > 0) addDropped.run(n, c.exporter, stream);
      }
    },
  };
}
