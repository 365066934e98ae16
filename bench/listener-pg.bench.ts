/**
 * Listener on PostgreSQL benchmark (issue 12), side by side with SQLite in the same run.
 *
 * 1. Ingest: 500-line gzip NDJSON batches of ~10 KB PHP profiles (compressed before the clock
 *    starts), `--senders` requests in flight in total. Variants, alternating per round:
 *    `sqlite` (one listener on SQLite, the issue 4 setup) and `pg` (two listener processes on one
 *    PostgreSQL database, senders spread over both). Reported: profiles/s, listener CPU per profile
 *    (/metrics of every listener), PostgreSQL CPU per profile (utime+stime from /proc of the
 *    backends serving the bench database; the server's background writers are shared with other
 *    work on this machine, so they are reported apart), and the ratio pg/sqlite of listener CPU.
 * 2. Queries: the same --profiles (default 1,000,000) ~2 KB profiles over the last 24 h in both
 *    stores (seeded through the SQLite store, copied to PostgreSQL with `store migrate`'s code),
 *    one listener on each answers search, rankings, timeseries and detail over HTTP, rounds
 *    alternating between them; p50/p95 per kind and store.
 * 3. On paper: listener and database cores for a fleet sending 100,000 profiles/s, from the
 *    per-profile CPU costs.
 *
 *   npm run bench -- --only listener-pg [--ingest-profiles 40000] [--rounds 2] [--senders 4]
 *                                       [--profiles 1000000] [--query-rounds 40]
 *                                       [--ingest-only | --query-only] [--seed-dir DIR]
 *
 * --seed-dir keeps the seeded query stores (DIR/listener.db, DIR/seed.json and the database named
 * there) for the next run with the same --profiles; drop the database yourself when done.
 *
 * Needs the machine's PostgreSQL on 127.0.0.1:5432 (BITVILLE_BENCH_PG=postgres://user@host:port);
 * a database is created for the run and dropped after it. Results: bench/results/listener-pg.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { stringify } from 'yaml';
import { extractRecord } from '../src/listener/extract/extract-record.js';
import { pgTarget } from '../src/listener/store/postgres/pg-connection.js';
import { createSqliteStore } from '../src/listener/store/sqlite/sqlite-store.js';
import { copySqliteToPostgres } from '../src/listener/store/store-copy.js';
import { createLogger } from '../src/shared/telemetry/logger.js';
import { ENDPOINTS, makeProfile, PROJECT } from './lib/php-profiles.js';

const CLI = new URL('../src/cli/main.js', import.meta.url).pathname;
const TOKEN = 'bench-token';
const SERVER = process.env.BITVILLE_BENCH_PG ?? 'postgres://root@127.0.0.1:5432';
const { values: args } = parseArgs({
  options: {
    'ingest-profiles': { type: 'string', default: '40000' },
    rounds: { type: 'string', default: '2' },
    senders: { type: 'string', default: '4' },
    profiles: { type: 'string', default: '1000000' },
    'query-rounds': { type: 'string', default: '40' },
    'ingest-only': { type: 'boolean', default: false },
    'query-only': { type: 'boolean', default: false },
    /** Keep the seeded query stores here and reuse them in the next run (seeding 1 M takes minutes). */
    'seed-dir': { type: 'string' },
  },
  strict: false,
});
const INGEST = Number(args['ingest-profiles']);
const ROUNDS = Number(args.rounds);
const SENDERS = Number(args.senders);
const SEED = Number(args.profiles);
const QUERY_ROUNDS = Number(args['query-rounds']);

// ---------- processes and CPU ----------
function cpuSecondsOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks of 10 ms
  } catch {
    return 0; // exited meanwhile
  }
}

async function admin<T>(database: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: `${SERVER}/${database}` });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Backends serving `db` and the server's own background processes (shared with other work). */
async function postgresCpu(db: string): Promise<{ backends: number; background: number }> {
  return admin('postgres', async (c) => {
    const r = await c.query<{ pid: number; datname: string | null; backend_type: string }>('SELECT pid, datname, backend_type FROM pg_stat_activity');
    let backends = 0;
    let background = 0;
    for (const row of r.rows) {
      if (row.datname === db && row.backend_type === 'client backend') backends += cpuSecondsOf(row.pid);
      else if (row.datname === null) background += cpuSecondsOf(row.pid);
    }
    return { backends, background };
  });
}

interface Listener {
  proc: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

async function spawnListener(dataDir: string, store: Record<string, unknown>): Promise<Listener> {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'listener.yaml');
  writeFileSync(file, stringify({ listen: '127.0.0.1:0', dataDir, tokens: { [TOKEN]: ['*'] }, store, limits: { linesPerSecond: 1e9, burstLines: 1e9 }, log: { level: 'warn' } }));
  const proc = spawn(process.execPath, [CLI, 'listener', '--config', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const s = JSON.parse(readFileSync(join(dataDir, 'listener.json'), 'utf8')) as { pid: number; url: string };
      if (s.pid === proc.pid) {
        const stop = (): Promise<void> =>
          new Promise((resolve) => {
            proc.once('exit', () => resolve());
            proc.kill('SIGTERM');
          });
        return { proc, url: s.url, stop };
      }
    } catch {
      // not written yet
    }
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error('listener did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function listenerCpu(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^bitville_listener_process_cpu_seconds_total ([0-9.e+-]+)$/m.exec(text)?.[1] ?? NaN);
}

// ---------- 1. ingest ----------
function makeBatches(): Buffer[] {
  const now = Date.now() / 1000;
  return Array.from({ length: Math.ceil(INGEST / 500) }, (_, b) => gzipSync(Array.from({ length: 500 }, (_, i) => JSON.stringify(makeProfile(now - 3600 + (b * 500 + i) / 20, true))).join('\n')));
}

async function send(urls: string[], batches: Buffer[]): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: SENDERS }, async (_, s) => {
      const url = urls[s % urls.length] as string;
      while (next < batches.length) {
        const body = batches[next++] as Buffer;
        const res = await fetch(`${url}/v1/ingest`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip' }, body });
        const answer = (await res.json()) as { accepted: number };
        if (res.status !== 200 || answer.accepted !== 500) throw new Error(`ingest answered ${res.status} ${JSON.stringify(answer)}`);
      }
    }),
  );
  return (performance.now() - t0) / 1000;
}

async function ingestSqlite(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'bitville-bench-pgcmp-'));
  const l = await spawnListener(dir, {});
  try {
    const batches = makeBatches();
    const c0 = await listenerCpu(l.url);
    const seconds = await send([l.url], batches);
    const profiles = batches.length * 500;
    return { profiles, seconds: r2(seconds), profiles_per_s: Math.round(profiles / seconds), listener_cpu_us_per_profile: r2((((await listenerCpu(l.url)) - c0) * 1e6) / profiles) };
  } finally {
    await l.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function ingestPg(round: number): Promise<Record<string, number>> {
  const db = `bv_bench_ingest_${process.pid}_${round}`;
  await admin('postgres', (c) => c.query(`CREATE DATABASE ${db}`));
  const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'bitville-bench-pg-')));
  const ls: Listener[] = [];
  try {
    for (const d of dirs) ls.push(await spawnListener(d, { url: `${SERVER}/${db}` }));
    const batches = makeBatches();
    const c0 = await Promise.all(ls.map((l) => listenerCpu(l.url)));
    const p0 = await postgresCpu(db);
    const seconds = await send(ls.map((l) => l.url), batches);
    const p1 = await postgresCpu(db);
    const c1 = await Promise.all(ls.map((l) => listenerCpu(l.url)));
    const profiles = batches.length * 500;
    const stored = await admin(db, async (c) => Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM requests')).rows[0]?.n));
    if (stored !== profiles) throw new Error(`stored ${stored} of ${profiles}`);
    const listenerS = c1.reduce((s, v, i) => s + v - (c0[i] ?? 0), 0);
    return {
      profiles,
      seconds: r2(seconds),
      profiles_per_s: Math.round(profiles / seconds),
      listener_cpu_us_per_profile: r2((listenerS * 1e6) / profiles),
      pg_backend_cpu_us_per_profile: r2(((p1.backends - p0.backends) * 1e6) / profiles),
      pg_background_cpu_us_per_profile: r2(((p1.background - p0.background) * 1e6) / profiles),
    };
  } finally {
    for (const l of ls) await l.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await admin('postgres', (c) => c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));
  }
}

// ---------- 2. queries over the same large store, on both ----------
interface Seed {
  profiles: number;
  /** The clock the seed's 24 h ended at: windows are relative to it, so a kept seed can be queried later. */
  now: number;
  database: string;
  /** Correlation ids for the detail requests. */
  ids: string[];
  seconds: { sqlite: number; pg_copy: number };
}

/**
 * The same data in both stores: seeded once through the SQLite store's own insert (~2 KB profiles
 * over 24 h, as the issue 4 bench), then copied into PostgreSQL by `store migrate`'s code path
 * (store-copy.ts: the PostgreSQL insert for the rows, the rollup rows as they are). With
 * `--seed-dir` the stores are kept there (listener.db, seed.json, the database named in it) and
 * reused by the next run with the same --profiles.
 */
async function seedStores(dir: string): Promise<Seed> {
  const file = join(dir, 'listener.db');
  const meta = join(dir, 'seed.json');
  if (existsSync(meta)) {
    const kept = JSON.parse(readFileSync(meta, 'utf8')) as Seed;
    if (kept.profiles === SEED) return kept;
    throw new Error(`${meta} holds ${kept.profiles} profiles, not --profiles ${SEED}: use another --seed-dir`);
  }
  const database = `bv_bench_query_${process.pid}`;
  await admin('postgres', (c) => c.query(`CREATE DATABASE ${database}`));
  const now = Math.floor(Date.now() / 1000);
  const from = now - 24 * 3600;
  const ids: string[] = [];
  const s0 = performance.now();
  const sqlite = createSqliteStore({ file });
  for (let done = 0; done < SEED; done += 5000) {
    const n = Math.min(5000, SEED - done);
    const records = Array.from({ length: n }, (_, i) => {
      const p = makeProfile(from + ((done + i) / SEED) * 24 * 3600, false);
      if ((done + i) % 997 === 0) ids.push(String(p.correlation_id));
      return extractRecord(p, Buffer.from(JSON.stringify(p)));
    });
    await sqlite.insertBatch(records);
    if ((done / 5000) % 20 === 0) process.stdout.write(`\rseeded SQLite ${done + n}/${SEED}`);
  }
  await sqlite.close();
  const s1 = performance.now();
  const t = pgTarget({ url: `${SERVER}/${database}`, poolSize: 2, connectTimeoutMs: 5000, statementTimeoutMs: 0, sslmode: null, sslRootCert: null, sslCert: null, sslKey: null });
  if (!t.ok) throw new Error(t.message);
  await copySqliteToPostgres({ from: file, to: t.target, batch: 5000, log: createLogger({ level: 'warn', format: 'json' }), progress: (p) => process.stdout.write(`\rcopied to PostgreSQL: ${p.table} ${p.read}/${p.of}      `) });
  await admin(database, (c) => c.query('VACUUM ANALYZE'));
  const seed: Seed = { profiles: SEED, now, database, ids, seconds: { sqlite: r2((s1 - s0) / 1000), pg_copy: r2((performance.now() - s1) / 1000) } };
  writeFileSync(meta, JSON.stringify(seed));
  process.stdout.write(`\rseeded ${SEED} profiles: SQLite ${seed.seconds.sqlite} s, copy to PostgreSQL ${seed.seconds.pg_copy} s\n`);
  return seed;
}

type Timings = Record<string, { p50_ms: number; p95_ms: number; n: number }>;

async function queries(): Promise<{ seed: Record<string, number>; sqlite: Timings; pg: Timings }> {
  const keep = typeof args['seed-dir'] === 'string' ? args['seed-dir'] : null;
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'bitville-bench-pgq-'));
  mkdirSync(dir, { recursive: true });
  let seed: Seed | null = null;
  try {
    seed = await seedStores(dir);
    const size = await admin(seed.database, async (c) => Number((await c.query<{ b: string }>('SELECT pg_database_size(current_database()) AS b')).rows[0]?.b));
    // One listener per store; both answer the same requests, the order alternating per round.
    const ls = { sqlite: await spawnListener(dir, {}), pg: await spawnListener(join(dir, 'pg-listener'), { url: `${SERVER}/${seed.database}` }) };
    const timings = { sqlite: {} as Record<string, number[]>, pg: {} as Record<string, number[]> };
    try {
      const { now, ids } = seed;
      const from = now - 24 * 3600;
      const win = `project=${PROJECT}&from=${from}&to=${now}`;
      const round = async (store: 'sqlite' | 'pg', r: number, warm: boolean): Promise<void> => {
        const get = async (kind: string, path: string): Promise<unknown> => {
          const t0 = performance.now();
          const res = await fetch(`${ls[store].url}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
          const body: unknown = await res.json();
          if (res.status !== 200) throw new Error(`${store} ${path} answered ${res.status}`);
          if (!warm) (timings[store][kind] ??= []).push(performance.now() - t0);
          return body;
        };
        const e = ENDPOINTS[r % ENDPOINTS.length] as { path: string };
        const page = (await get('search: newest 50', `/api/v1/requests?project=${PROJECT}&limit=50`)) as { next_cursor: string };
        await get('search: next page (cursor)', `/api/v1/requests?project=${PROJECT}&limit=50&cursor=${page.next_cursor}`);
        await get('search: url substring', `/api/v1/requests?project=${PROJECT}&url=${encodeURIComponent(e.path)}&limit=50`);
        await get('search: min_ms 1000, last hour', `/api/v1/requests?project=${PROJECT}&min_ms=1000&from=${now - 3600}&limit=50`);
        await get('search: status 500 + host', `/api/v1/requests?project=${PROJECT}&status=500&host=web-0${r % 8}&limit=50`);
        await get('detail (with comparison)', `/api/v1/requests/${ids[(r * 7) % ids.length]}`);
        await get('stats: endpoints 24 h', `/api/v1/stats/endpoints?${win}&limit=20`);
        await get('stats: queries 24 h', `/api/v1/stats/queries?${win}&limit=20`);
        await get('stats: functions 24 h', `/api/v1/stats/functions?${win}&limit=20`);
        await get('stats: timeseries 24 h / 60 s', `/api/v1/stats/timeseries?${win}&step=60`);
      };
      // Warm-up: one round each pulls the pages into the caches and prepares the statements.
      await round('sqlite', 0, true);
      await round('pg', 0, true);
      for (let r = 0; r < QUERY_ROUNDS; r++) {
        const order: ('sqlite' | 'pg')[] = r % 2 === 0 ? ['sqlite', 'pg'] : ['pg', 'sqlite'];
        for (const store of order) await round(store, r, false);
      }
    } finally {
      await ls.sqlite.stop();
      await ls.pg.stop();
    }
    const summary = (t: Record<string, number[]>): Timings => {
      const out: Timings = {};
      for (const [k, v] of Object.entries(t)) {
        const sorted = [...v].sort((a, b) => a - b);
        out[k] = { p50_ms: r2(pct(sorted, 0.5)), p95_ms: r2(pct(sorted, 0.95)), n: v.length };
      }
      return out;
    };
    return {
      seed: { profiles: SEED, sqlite_seed_s: seed.seconds.sqlite, pg_copy_s: seed.seconds.pg_copy, sqlite_mb: r2(statSync(join(dir, 'listener.db')).size / 1e6), pg_mb: r2(size / 1e6) },
      sqlite: summary(timings.sqlite),
      pg: summary(timings.pg),
    };
  } finally {
    if (!keep) {
      rmSync(dir, { recursive: true, force: true });
      if (seed) await admin('postgres', (c) => c.query(`DROP DATABASE IF EXISTS ${(seed as Seed).database} WITH (FORCE)`));
    }
  }
}

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}
const r2 = (v: number): number => Math.round(v * 100) / 100;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? NaN;
};

async function ingest(): Promise<Record<string, unknown>> {
  const sqlite: Record<string, number>[] = [];
  const pgRuns: Record<string, number>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternating order, so neither variant always runs on a warmer or busier machine.
    if (r % 2 === 0) {
      sqlite.push(await ingestSqlite());
      pgRuns.push(await ingestPg(r));
    } else {
      pgRuns.push(await ingestPg(r));
      sqlite.push(await ingestSqlite());
    }
  }
  console.log('\ningest, SQLite (one listener)');
  console.table(sqlite);
  console.log('ingest, PostgreSQL (two listeners, one database)');
  console.table(pgRuns);
  const ratios = pgRuns.map((p, i) => (p.listener_cpu_us_per_profile ?? NaN) / (sqlite[i]?.listener_cpu_us_per_profile ?? NaN));
  const listenerUs = median(pgRuns.map((p) => p.listener_cpu_us_per_profile ?? NaN));
  const pgUs = median(pgRuns.map((p) => p.pg_backend_cpu_us_per_profile ?? NaN));
  const pgBgUs = median(pgRuns.map((p) => p.pg_background_cpu_us_per_profile ?? NaN));
  const fleet = {
    'listener CPU pg / sqlite (median of rounds)': r2(median(ratios)),
    'listener cores for 100,000 profiles/s': r2((100_000 * listenerUs) / 1e6),
    'PostgreSQL cores for 100,000 profiles/s (backends)': r2((100_000 * pgUs) / 1e6),
    'PostgreSQL cores incl. background writers': r2((100_000 * (pgUs + pgBgUs)) / 1e6),
  };
  console.table(fleet);
  return { sqlite, pg: pgRuns, ratios, fleet };
}

async function main(): Promise<void> {
  console.log(`listener-pg bench: ingest ${INGEST} profiles x ${ROUNDS} rounds, ${SENDERS} senders; query store ${SEED}; ${cpus().length} CPUs, Node ${process.version}`);
  const results: Record<string, unknown> = {};
  if (!args['query-only']) results.ingest = await ingest();
  if (!args['ingest-only']) {
    const q = await queries();
    console.log(`\nqueries over the same ${SEED} profiles in both stores (24 h, HTTP round trip, ${QUERY_ROUNDS} rounds, order alternating)`);
    console.table(q.seed);
    const rows: Record<string, Record<string, number | string>> = {};
    for (const [kind, p] of Object.entries(q.pg)) {
      const s = q.sqlite[kind];
      rows[kind] = { 'pg p50': p.p50_ms, 'pg p95': p.p95_ms, 'sqlite p50': s?.p50_ms ?? NaN, 'sqlite p95': s?.p95_ms ?? NaN, 'p95 pg/sqlite': r2(p.p95_ms / (s?.p95_ms ?? NaN)) };
    }
    console.table(rows);
    results.seed = q.seed;
    results.queries = { pg: q.pg, sqlite: q.sqlite };
  }
  const out = new URL('./results/listener-pg.json', new URL('../../bench/', import.meta.url));
  mkdirSync(new URL('.', out), { recursive: true });
  writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: cpus().length, ...results }, null, 2));
  console.log(`\nwrote ${out.pathname}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
