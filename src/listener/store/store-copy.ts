import type { Logger } from 'pino';
import type { PoolClient } from 'pg';
import type { PgTarget } from './postgres/pg-connection.js';
import { insertBatchPg } from './postgres/pg-ingest.js';
import { dayOf } from './postgres/pg-partitions.js';
import { openPgDatabase, type PgDatabase } from './postgres/postgres-store.js';
import { inTransaction } from './postgres/pg-tx.js';
import { openSqliteReader, type RollupPosition } from './sqlite/sqlite-reader.js';

export interface CopyOptions {
  /** Absolute path of the SQLite store; also the name its progress is kept under. */
  from: string;
  to: PgTarget;
  batch: number;
  log: Logger;
  /** Called after each committed chunk (the CLI prints it). */
  progress?: (p: CopyProgress) => void;
}

export interface CopyProgress {
  table: 'requests' | 'db_activity' | 'rollups' | 'projects';
  /** Rows read from SQLite in this run. */
  read: number;
  /** Of those, stored now (the rest were already there). */
  copied: number;
  /** Rows the SQLite table holds. */
  of: number;
}

export type CopyReport = Record<CopyProgress['table'], { read: number; copied: number }>;

/**
 * `store migrate`: copies a SQLite store into PostgreSQL, resumable and idempotent.
 * - Rows go through the PostgreSQL store's own insert (idempotency keys: a row already there is a
 *   duplicate, never a second copy), in SQLite id order, so time ties sort the same afterwards.
 * - Rollups are copied as they are, not rebuilt from payloads (they may hold rows retention has
 *   already removed): each chunk is added in the same transaction that records how far the copy
 *   got, so an interrupted run resumes exactly where it stopped and a second run adds nothing.
 * - Progress for rows is kept too, only so a rerun does not have to re-read what is done.
 */
export async function copySqliteToPostgres(o: CopyOptions): Promise<CopyReport> {
  const src = openSqliteReader(o.from);
  const retentionDays = 36_500; // partitions for every day there is data for; the listener's retention trims later
  const db = await openPgDatabase({ target: o.to, retentionDays, partitionsAhead: 1, log: o.log });
  const report: CopyReport = { requests: { read: 0, copied: 0 }, db_activity: { read: 0, copied: 0 }, rollups: { read: 0, copied: 0 }, projects: { read: 0, copied: 0 } };
  try {
    const counts = src.counts();
    for (const table of ['requests', 'db_activity'] as const) {
      let after = Number((await position(db, o.from, table)) ?? 0);
      for (;;) {
        const chunk = table === 'requests' ? src.profiles(after, o.batch) : src.activity(after, o.batch);
        if (chunk.length === 0) break;
        const results = await insertBatchPg(db, chunk.map((x) => x.record), undefined, { withRollups: false });
        after = chunk[chunk.length - 1]?.id ?? after;
        await db.pool.query('INSERT INTO copy_progress VALUES ($1, $2, $3) ON CONFLICT (source, tbl) DO UPDATE SET position = excluded.position', [o.from, table, String(after)]);
        report[table].read += chunk.length;
        report[table].copied += results.filter((r) => r.kind === 'accepted').length;
        o.progress?.({ table, ...report[table], of: table === 'requests' ? counts.requests : counts.activity });
      }
    }
    const saved = await position(db, o.from, 'rollups');
    let after = saved === null ? null : (JSON.parse(saved) as RollupPosition);
    for (;;) {
      const chunk = src.rollups(after, o.batch);
      const last = chunk[chunk.length - 1];
      if (!last) break;
      await db.partitions.ensure(new Set(chunk.map((x) => dayOf(x.cell.t))));
      const keys = await inTransaction(db.pool, async (c: PoolClient) => {
        const k = await db.rollups.write(c, { cells: chunk.map((x) => x.cell), profiles: 0 });
        await c.query('INSERT INTO copy_progress VALUES ($1, $2, $3) ON CONFLICT (source, tbl) DO UPDATE SET position = excluded.position', [o.from, 'rollups', JSON.stringify(last.position)]);
        return k;
      });
      db.rollups.committed(keys);
      after = last.position;
      report.rollups.read += chunk.length;
      report.rollups.copied += chunk.length;
      o.progress?.({ table: 'rollups', ...report.rollups, of: counts.rollups });
    }
    // first_seen / last_seen as SQLite knew them (they outlive retention there); merging is idempotent.
    const projects = src.projects();
    if (projects.length > 0) {
      await db.pool.query(
        `INSERT INTO projects AS p (name, first_seen, last_seen) SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[])
         ON CONFLICT (name) DO UPDATE SET first_seen = least(p.first_seen, excluded.first_seen), last_seen = greatest(p.last_seen, excluded.last_seen)`,
        [projects.map((p) => p.project), projects.map((p) => p.first_seen), projects.map((p) => p.last_seen)],
      );
    }
    report.projects = { read: projects.length, copied: projects.length };
    o.progress?.({ table: 'projects', ...report.projects, of: projects.length });
    return report;
  } finally {
    src.close();
    await db.pool.end();
  }
}

async function position(db: PgDatabase, source: string, table: string): Promise<string | null> {
  const r = await db.pool.query<{ position: string }>('SELECT position FROM copy_progress WHERE source = $1 AND tbl = $2', [source, table]);
  return r.rows[0]?.position ?? null;
}
