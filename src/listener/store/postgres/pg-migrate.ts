import { hostname } from 'node:os';
import type { Pool } from 'pg';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from './pg-schema.js';
import { inTransaction } from './pg-tx.js';

/** pg_advisory_xact_lock(class, id) keys of this application; per database. */
export const LOCK_CLASS = 0x42_56_41; // "BVA"
export const LOCK_MIGRATIONS = 1;
export const LOCK_PARTITIONS = 2;

export interface MigrateResult {
  /** Versions this call applied (empty when another listener had already done it). */
  applied: number[];
  version: number;
}

/**
 * Brings the schema to PG_SCHEMA_VERSION in one transaction that first takes an advisory lock:
 * a second listener starting at the same moment waits for it, then finds nothing left to do.
 * Each applied version is recorded with who applied it (host/pid) and when.
 */
export async function migrate(pool: Pool): Promise<MigrateResult> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, LOCK_MIGRATIONS]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), applied_by text NOT NULL)`);
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const newest = Math.max(0, ...done);
    if (newest > PG_SCHEMA_VERSION) {
      throw new Error(`the database's schema is version ${newest}, newer than this listener knows (${PG_SCHEMA_VERSION}): upgrade the listener, or point store.url at another database`);
    }
    const applied: number[] = [];
    for (const m of PG_MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations(version, description, applied_by) VALUES ($1, $2, $3)', [m.version, m.description, `${hostname()}/${process.pid}`]);
      applied.push(m.version);
    }
    return { applied, version: PG_SCHEMA_VERSION };
  });
}
