import pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import { EXPORT_STREAMS, type ExportCursorState, type ExportRow, type ExportStream, type Store } from '../store.js';
import { LOCK_CLASS } from './pg-migrate.js';

type ExportMethods = Pick<Store, 'activateExporters' | 'exportCursor' | 'readForExport' | 'saveExportCursor' | 'exportBacklog' | 'exportLease'>;

export interface PgExport extends ExportMethods {
  /**
   * Inside retention's transaction, before rows of `stream` matching `where` (on the data table
   * aliased `r`, joined to its key row `k`) go: adds them to each enabled exporter's dropped count
   * when they lie after its cursor.
   */
  countDropped(client: PoolClient, stream: ExportStream, table: string, where: string, params: unknown[]): Promise<void>;
  close(): Promise<void>;
}

/** Advisory lock ids (class LOCK_CLASS) of the exporter leases: one listener per database runs each exporter. */
const LEASE_ID: Readonly<Record<string, number>> = { gelf: 101, otlp: 102 };

const KEYS: Readonly<Record<ExportStream, { keys: string; data: string }>> = {
  profile: { keys: 'request_keys', data: 'requests' },
  activity: { keys: 'activity_keys', data: 'db_activity' },
};

/**
 * Export streams on PostgreSQL. Several listeners insert concurrently, so ids commit out of order:
 * the stream is ordered by (transaction id, id) of each row's key (`tx`, migration 2) and only
 * rows of transactions older than every transaction still open are handed out. A row committed
 * late therefore never lands behind a cursor; a long-open writing transaction holds exporting back
 * until it ends. Positions are "<tx>:<id>".
 */
export function createPgExport(pool: Pool, pgTarget: pg.ClientConfig, now: () => number = Date.now): PgExport {
  const leases = new Map<string, pg.Client>();

  async function state(exporter: string): Promise<ExportCursorState | null> {
    const rows = (
      await pool.query<{ stream: ExportStream; tx: string; pos: string; in_flight: number; dropped_retention: string }>(
        'SELECT stream, tx::text AS tx, pos::text AS pos, in_flight, dropped_retention::text AS dropped_retention FROM export_cursors WHERE exporter = $1',
        [exporter],
      )
    ).rows;
    if (rows.length === 0) return null;
    const s: ExportCursorState = { exporter, position: { profile: '0:0', activity: '0:0' }, droppedByRetention: { profile: 0, activity: 0 }, inFlight: { profile: 0, activity: 0 } };
    for (const r of rows) {
      s.position[r.stream] = `${r.tx}:${r.pos}`;
      s.droppedByRetention[r.stream] = Number(r.dropped_retention);
      s.inFlight[r.stream] = r.in_flight;
    }
    return s;
  }

  return {
    async activateExporters(exporters) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('UPDATE export_cursors SET active = false');
        for (const e of exporters) {
          for (const stream of EXPORT_STREAMS) {
            const { keys } = KEYS[stream];
            const start = e.startAt === 'end' ? `(SELECT tx FROM ${keys} ORDER BY tx DESC, id DESC LIMIT 1)` : 'NULL';
            const pos = e.startAt === 'end' ? `(SELECT id FROM ${keys} ORDER BY tx DESC, id DESC LIMIT 1)` : 'NULL';
            await client.query(
              `INSERT INTO export_cursors (exporter, stream, tx, pos, updated_at) VALUES ($1, $2, coalesce(${start}, '0'::xid8), coalesce(${pos}, 0), $3) ON CONFLICT (exporter, stream) DO NOTHING`,
              [e.name, stream, now() / 1000],
            );
          }
          await client.query('UPDATE export_cursors SET active = true WHERE exporter = $1', [e.name]);
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
      const out: ExportCursorState[] = [];
      for (const e of exporters) out.push((await state(e.name)) as ExportCursorState);
      return out;
    },

    exportCursor: state,

    async readForExport(stream, after, limit, maxBytes) {
      const [tx, id] = split(after);
      const { keys, data } = KEYS[stream];
      const visible = `(k.tx, k.id) > ($1::xid8, $2::bigint) AND k.tx < pg_snapshot_xmin(pg_current_snapshot())`;
      const sized = (
        await pool.query<{ tx: string; id: string; bytes: number | null }>(
          `SELECT k.tx::text AS tx, k.id::text AS id, length(r.body) AS bytes FROM ${keys} k LEFT JOIN ${data} r ON r.ts = k.ts AND r.id = k.id
           WHERE ${visible} ORDER BY k.tx, k.id LIMIT $3`,
          [tx, id, limit],
        )
      ).rows;
      if (sized.length === 0) return [];
      let total = 0;
      let last = sized[0] as { tx: string; id: string };
      for (const s of sized) {
        if (total > 0 && total + (s.bytes ?? 0) > maxBytes) break;
        total += s.bytes ?? 0;
        last = s;
      }
      const cols = stream === 'profile' ? 'r.correlation_id AS key, r.method, r.url, r.endpoint, r.status, r.duration_ms, r.host, r.sql_count, r.sql_ms, r.is_error, r.facts' : 'r.record_key AS key, NULL AS facts';
      const rows = (
        await pool.query<{ tx: string; id: string; project: string; source: string; key: string; ts: number; body: Buffer; encoding: number } & Record<string, unknown>>(
          `SELECT k.tx::text AS tx, k.id::text AS id, r.project, r.source, r.ts, r.encoding, r.body, ${cols}
           FROM ${keys} k JOIN ${data} r ON r.ts = k.ts AND r.id = k.id
           WHERE ${visible} AND (k.tx, k.id) <= ($3::xid8, $4::bigint) ORDER BY k.tx, k.id`,
          [tx, id, last.tx, last.id],
        )
      ).rows;
      // Keys whose row retention already removed are skipped: the cursor moves past them with the batch's last row.
      const out = rows.map(
        (r): ExportRow => ({
          stream,
          position: `${r.tx}:${r.id}`,
          project: r.project,
          source: r.source,
          key: r.key,
          timestamp: r.ts,
          profile:
            stream === 'profile'
              ? { method: String(r.method), url: String(r.url), endpoint: String(r.endpoint), status: r.status === null ? null : Number(r.status), duration_ms: Number(r.duration_ms), host: String(r.host), sql_count: Number(r.sql_count), sql_ms: Number(r.sql_ms), is_error: r.is_error === true }
              : null,
          stored: r.body,
          encoding: r.encoding,
          facts: typeof r.facts === 'string' ? r.facts : null,
        }),
      );
      return out;
    },

    async saveExportCursor(exporter, stream, position, inFlight) {
      const [tx, id] = split(position);
      await pool.query('UPDATE export_cursors SET tx = $1::xid8, pos = $2, in_flight = $3, updated_at = $4 WHERE exporter = $5 AND stream = $6', [tx, id, inFlight, now() / 1000, exporter, stream]);
    },

    async exportBacklog(stream, after) {
      const [tx, id] = split(after);
      const { keys, data } = KEYS[stream];
      const r = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${keys} k JOIN ${data} r ON r.ts = k.ts AND r.id = k.id WHERE (k.tx, k.id) > ($1::xid8, $2::bigint)`, [tx, id]);
      return Number(r.rows[0]?.n ?? 0);
    },

    async exportLease(exporter) {
      const held = leases.get(exporter);
      if (held) return true;
      const client = new pg.Client(pgTarget);
      try {
        await client.connect();
        const got = (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [LOCK_CLASS, LEASE_ID[exporter] ?? 199])).rows[0]?.ok === true;
        if (!got) {
          await client.end();
          return false;
        }
      } catch {
        await client.end().catch(() => undefined);
        return false;
      }
      // The lock lives as long as this session: a lost connection hands the exporter to another listener.
      client.on('error', () => leases.delete(exporter));
      client.on('end', () => leases.delete(exporter));
      leases.set(exporter, client);
      return true;
    },

    async countDropped(client, stream, table, where, params) {
      const { keys } = KEYS[stream];
      await client.query(
        `UPDATE export_cursors c SET dropped_retention = c.dropped_retention + d.n
         FROM (SELECT c2.exporter, count(*) AS n FROM export_cursors c2
               JOIN ${keys} k ON (k.tx, k.id) > (c2.tx, c2.pos)
               JOIN ${table} r ON r.ts = k.ts AND r.id = k.id
               WHERE c2.active AND c2.stream = '${stream}' AND ${where} GROUP BY c2.exporter) d
         WHERE c.exporter = d.exporter AND c.stream = '${stream}'`,
        params,
      );
    },

    async close() {
      for (const c of leases.values()) await c.end().catch(() => undefined);
      leases.clear();
    },
  };
}

function split(position: string): [string, string] {
  const [tx, id] = position.split(':');
  return [tx && /^\d+$/.test(tx) ? tx : '0', id && /^\d+$/.test(id) ? id : '0'];
}
