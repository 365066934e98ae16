/**
 * How the PostgreSQL store writes a batch's rows (issue 12: "multi-row insert or COPY, measure
 * which"). Three ways to put 500-row batches of request rows with ~2 KB binary payloads into a
 * table partitioned and indexed like `requests`, each in its own transaction:
 * - `values`: INSERT ... VALUES (...), (...) as one prepared statement, payloads sent in binary;
 * - `unnest`: INSERT ... SELECT FROM unnest($1::text[], ..., $n::bytea[]) (one statement shape);
 * - `copy`: COPY ... FROM STDIN (FORMAT binary) through pg-copy-streams.
 * Reported per variant: rows/s, client CPU and PostgreSQL backend CPU per row (/proc of the
 * backend), alternating order over --rounds rounds.
 *
 *   npm run bench -- --only pg-insert [--rows 20000] [--rounds 2]
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const SERVER = process.env.BITVILLE_BENCH_PG ?? 'postgres://root@127.0.0.1:5432';
const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '2' } }, strict: false });
const ROWS = Number(args.rows);
const ROUNDS = Number(args.rounds);
const COLS = ['id', 'project', 'cid', 'ts', 'url', 'endpoint', 'status', 'duration_ms', 'host', 'body'] as const;
const TYPES = ['int8', 'text', 'text', 'float8', 'text', 'text', 'int4', 'float8', 'text', 'bytea'];
type Row = [number, string, string, number, string, string, number, number, string, Buffer];

let id = 0;
const rows = (n: number): Row[] =>
  Array.from({ length: n }, (): Row => [++id, 'bench', randomBytes(16).toString('hex'), 1.7e9 + id / 10, '/module1/action3/123?page=2', 'GET /module1/action3/{id}', 200, 123.45, 'web-01', randomBytes(2000)]);

function binaryRow(r: Row): Buffer {
  const parts: Buffer[] = [Buffer.from([0, COLS.length])];
  const field = (b: Buffer): void => {
    const len = Buffer.alloc(4);
    len.writeInt32BE(b.length);
    parts.push(len, b);
  };
  const num = (size: 4 | 8, write: (b: Buffer) => void): void => {
    const b = Buffer.alloc(size);
    write(b);
    field(b);
  };
  num(8, (b) => b.writeBigInt64BE(BigInt(r[0])));
  field(Buffer.from(r[1]));
  field(Buffer.from(r[2]));
  num(8, (b) => b.writeDoubleBE(r[3]));
  field(Buffer.from(r[4]));
  field(Buffer.from(r[5]));
  num(4, (b) => b.writeInt32BE(r[6]));
  num(8, (b) => b.writeDoubleBE(r[7]));
  field(Buffer.from(r[8]));
  field(r[9]);
  return Buffer.concat(parts);
}
const COPY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);

const variants: Record<string, (c: pg.Client, b: Row[]) => Promise<unknown>> = {
  values: (c, b) => c.query({ name: `v${b.length}`, text: `INSERT INTO r VALUES ${b.map((_, i) => `(${COLS.map((_, j) => `$${i * COLS.length + j + 1}`).join(',')})`).join(',')}`, values: b.flat() }),
  unnest: (c, b) => c.query({ name: 'u', text: `INSERT INTO r SELECT * FROM unnest(${TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(',')})`, values: COLS.map((_, j) => b.map((r) => r[j])) }),
  copy: (c, b) => pipeline(Readable.from([Buffer.concat([COPY_HEADER, ...b.map(binaryRow), Buffer.from([0xff, 0xff])])]), c.query(copyFrom(`COPY r (${COLS.join(',')}) FROM STDIN (FORMAT binary)`))),
};

async function main(): Promise<void> {
  const db = `bv_bench_insert_${process.pid}`;
  const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  const c = new pg.Client({ connectionString: `${SERVER}/${db}` });
  try {
    await c.connect();
    await c.query(`CREATE TABLE r (id bigint, project text, cid text, ts float8, url text, endpoint text, status int, duration_ms float8, host text, body bytea) PARTITION BY RANGE (ts);
      ALTER TABLE r ALTER COLUMN body SET STORAGE EXTERNAL;
      CREATE TABLE r_1 PARTITION OF r FOR VALUES FROM (0) TO (1e12) WITH (toast_tuple_target = 128);
      CREATE INDEX ON r (ts, id); CREATE INDEX ON r (project, ts, id); CREATE INDEX ON r (project, duration_ms);
      CREATE INDEX ON r (project, md5(endpoint), ts); CREATE INDEX ON r (project, host, ts)`);
    const backend = (await c.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]?.p ?? 0;
    const pgCpu = (): number => {
      const f = readFileSync(`/proc/${backend}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(f[11]) + Number(f[12])) / 100;
    };
    const results: Record<string, string | number>[] = [];
    const names = Object.keys(variants);
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of round % 2 === 0 ? names : [...names].reverse()) {
        const batches = Array.from({ length: Math.ceil(ROWS / 500) }, () => rows(500));
        const cpu0 = process.cpuUsage();
        const p0 = pgCpu();
        const t0 = performance.now();
        for (const b of batches) {
          await c.query('BEGIN');
          await variants[name]?.(c, b);
          await c.query('COMMIT');
        }
        const s = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const n = batches.length * 500;
        results.push({ round, variant: name, rows_per_s: Math.round(n / s), client_cpu_us_per_row: Math.round((cpu.user + cpu.system) / n), pg_cpu_us_per_row: Math.round(((pgCpu() - p0) * 1e6) / n) });
      }
    }
    console.table(results);
  } finally {
    await c.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
