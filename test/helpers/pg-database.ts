import { after } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The machine's PostgreSQL (trust auth; CI starts it). Tests never touch its configuration. */
export const PG_ADMIN = { host: process.env.BITVILLE_TEST_PGHOST ?? '127.0.0.1', port: Number(process.env.BITVILLE_TEST_PGPORT ?? 5432), user: process.env.BITVILLE_TEST_PGUSER ?? 'root', database: 'postgres' };

export interface TestDatabase {
  name: string;
  /** postgres://user@host:port/name */
  url: string;
  query<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

const created = new Set<TestDatabase>();
after(async () => {
  for (const d of [...created]) await d.drop();
});

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(PG_ADMIN);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh, empty database with a random name, dropped when the test file ends (or by drop()). */
export async function createTestDatabase(prefix = 'bv_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = `postgres://${PG_ADMIN.user}@${PG_ADMIN.host}:${PG_ADMIN.port}/${name}`;
  let dropped = false;
  const db: TestDatabase = {
    name,
    url,
    async query(text, values) {
      const c = new pg.Client({ ...PG_ADMIN, database: name });
      await c.connect();
      try {
        return (await c.query(text, values)).rows;
      } finally {
        await c.end();
      }
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      created.delete(db);
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
  created.add(db);
  return db;
}
