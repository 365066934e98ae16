import type { Pool, PoolClient } from 'pg';
import { LOCK_CLASS, LOCK_PARTITIONS } from './pg-migrate.js';
import { PARTITIONED } from './pg-schema.js';
import { inTransaction } from './pg-tx.js';

export const DAY_S = 86_400;

export function dayOf(ts: number): number {
  return Math.floor(ts / DAY_S);
}

/** e.g. requests_p20250114: the UTC day the partition holds. */
export function partitionName(table: string, day: number): string {
  return `${table}_p${new Date(day * DAY_S * 1000).toISOString().slice(0, 10).replace(/-/g, '')}`;
}

function dayOfName(name: string): number | null {
  const m = /_p(\d{4})(\d{2})(\d{2})$/.exec(name);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 1000 / DAY_S : null;
}

/** Partition DDL waits at most this long for a lock, so it never queues ingest behind a long read. */
const DDL_LOCK_TIMEOUT = '2s';

export interface Partitions {
  /** Re-reads which day partitions exist (another listener may have created or dropped some). */
  refresh(): Promise<void>;
  /**
   * Makes sure the days a batch writes to have partitions, when they lie between the retention
   * cutoff and `partitionsAhead` days after today; rows of other days go to the DEFAULT partition.
   * No query at all when every day is known.
   */
  ensure(days: Iterable<number>): Promise<void>;
  /** Today's and the next `partitionsAhead` days' partitions. */
  createAhead(): Promise<void>;
  /**
   * Drops the oldest day whose every row is older than `cutoff`; returns its row count, null when there is none.
   * `beforeDrop` runs in the same transaction before each partition goes (exporters count what they had not sent).
   */
  dropOneDay(cutoff: number, beforeDrop?: (client: PoolClient, table: string, partition: string) => Promise<void>): Promise<number | null>;
  days(): number[];
}

export interface PartitionOptions {
  pool: Pool;
  ahead: number;
  retentionDays: number;
  now: () => number;
}

export function createPartitions(o: PartitionOptions): Partitions {
  let known = new Set<number>();
  const today = (): number => dayOf(o.now() / 1000);

  async function create(day: number): Promise<void> {
    await inTransaction(o.pool, async (c) => {
      await c.query(`SET LOCAL lock_timeout = '${DDL_LOCK_TIMEOUT}'`);
      await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, LOCK_PARTITIONS]);
      const from = day * DAY_S;
      const to = from + DAY_S;
      for (const p of PARTITIONED) {
        const name = partitionName(p.table, day);
        const exists = await c.query('SELECT to_regclass($1) IS NOT NULL AS e', [name]);
        if (exists.rows[0]?.e === true) continue;
        // Created detached and attached after: ATTACH takes a weaker lock on the parent than
        // CREATE ... PARTITION OF, so ingest and reads go on meanwhile. Rows of that day that an
        // earlier DEFAULT routing put aside move in first (rare: far-future timestamps).
        await c.query(`CREATE TABLE ${name} (LIKE ${p.table} INCLUDING DEFAULTS INCLUDING STORAGE) ${p.options}`);
        await c.query(`WITH moved AS (DELETE FROM ${p.table}_default WHERE ${p.column} >= ${from} AND ${p.column} < ${to} RETURNING *) INSERT INTO ${name} SELECT * FROM moved`);
        await c.query(`ALTER TABLE ${p.table} ATTACH PARTITION ${name} FOR VALUES FROM (${from}) TO (${to})`);
      }
    });
    known.add(day);
  }

  return {
    async refresh() {
      const r = await o.pool.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'requests'::regclass`,
      );
      known = new Set(r.rows.map((x) => dayOfName(x.name)).filter((d): d is number => d !== null));
    },
    async ensure(days) {
      const lo = dayOf(o.now() / 1000 - o.retentionDays * DAY_S);
      const hi = today() + o.ahead;
      for (const d of days) if (!known.has(d) && d >= lo && d <= hi) await create(d);
    },
    async createAhead() {
      for (let d = today(); d <= today() + o.ahead; d++) if (!known.has(d)) await create(d);
    },
    async dropOneDay(cutoff, beforeDrop) {
      await this.refresh();
      const old = [...known].filter((d) => (d + 1) * DAY_S <= cutoff).sort((a, b) => a - b)[0];
      if (old === undefined) return null;
      const rows = await inTransaction(o.pool, async (c) => {
        await c.query(`SET LOCAL lock_timeout = '${DDL_LOCK_TIMEOUT}'`);
        await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, LOCK_PARTITIONS]);
        let n = 0;
        for (const p of PARTITIONED) {
          const name = partitionName(p.table, old);
          const exists = await c.query('SELECT to_regclass($1) IS NOT NULL AS e', [name]);
          if (exists.rows[0]?.e !== true) continue; // another listener's retention was first
          if (p.table !== 'db_activity_links' && p.table !== 'request_bodies') n += Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`)).rows[0]?.n ?? 0);
          await beforeDrop?.(c, p.table, name);
          await c.query(`DROP TABLE ${name}`);
        }
        return n;
      });
      known.delete(old);
      return rows;
    },
    days: () => [...known].sort((a, b) => a - b),
  };
}
