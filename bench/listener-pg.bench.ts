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
 * 2. Queries: a PostgreSQL store seeded with --profiles (default 1,000,000) ~2 KB profiles over the
 *    last 24 h through the store's own insert, then a listener on it answers search, rankings,
 *    timeseries and detail over HTTP; p50/p95 per kind.
 * 3. On paper: listener and database cores for a fleet sending 100,000 profiles/s, from the
 *    per-profile CPU costs.
 *
 *   npm run bench -- --only listener-pg [--ingest-profiles 40000] [--rounds 2] [--senders 4]
 *                                       [--profiles 1000000] [--query-rounds 40] [--ingest-only]
 *
 * Needs the machine's PostgreSQL on 127.0.0.1:5432 (BITVILLE_BENCH_PG=postgres://user@host:port);
 * a database is created for the run and dropped after it. Results: bench/results/listener-pg.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { stringify } from 'yaml';
import { extractRecord } from '../src/listener/extract/extract-record.js';
import { pgTarget } from '../src/listener/store/postgres/pg-connection.js';
import { openPostgresStore } from '../src/listener/store/postgres/postgres-store.js';
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

// ---------- 2. queries over a large PostgreSQL store ----------
async function queries(): Promise<{ seed: Record<string, number>; timings: Record<string, { p50_ms: number; p95_ms: number; n: number }> }> {
  const db = `bv_bench_query_${process.pid}`;
  await admin('postgres', (c) => c.query(`CREATE DATABASE ${db}`));
  const dir = mkdtempSync(join(tmpdir(), 'bitville-bench-pgq-'));
  try {
    const now = Math.floor(Date.now() / 1000);
    const from = now - 24 * 3600;
    const t = pgTarget({ url: `${SERVER}/${db}`, poolSize: 4, connectTimeoutMs: 5000, statementTimeoutMs: 0, sslmode: null, sslRootCert: null, sslCert: null, sslKey: null });
    if (!t.ok) throw new Error(t.message);
    const store = await openPostgresStore({ target: t.target, retentionDays: 7, partitionsAhead: 1, log: createLogger({ level: 'warn', format: 'json' }) });
    const s0 = performance.now();
    const ids: string[] = [];
    for (let done = 0; done < SEED; done += 5000) {
      const n = Math.min(5000, SEED - done);
      const records = Array.from({ length: n }, (_, i) => {
        const p = makeProfile(from + ((done + i) / SEED) * 24 * 3600, false);
        if ((done + i) % 997 === 0) ids.push(String(p.correlation_id));
        return extractRecord(p, Buffer.from(JSON.stringify(p)));
      });
      await store.insertBatch(records);
      if ((done / 5000) % 20 === 0) process.stdout.write(`\rseeded ${done + n}/${SEED}`);
    }
    await store.close();
    const seedS = (performance.now() - s0) / 1000;
    process.stdout.write(`\rseeded ${SEED} profiles in ${seedS.toFixed(1)} s\n`);
    await admin(db, (c) => c.query('VACUUM ANALYZE'));
    const size = await admin(db, async (c) => Number((await c.query<{ b: string }>('SELECT pg_database_size(current_database()) AS b')).rows[0]?.b));

    const l = await spawnListener(dir, { url: `${SERVER}/${db}` });
    const timings: Record<string, number[]> = {};
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const get = async (kind: string, path: string): Promise<unknown> => {
      const t0 = performance.now();
      const res = await fetch(`${l.url}${path}`, { headers: auth });
      const body: unknown = await res.json();
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
      (timings[kind] ??= []).push(performance.now() - t0);
      return body;
    };
    try {
      const win = `project=${PROJECT}&from=${from}&to=${now}`;
      for (const k of ['endpoints', 'queries', 'functions']) await get('warmup', `/api/v1/stats/${k}?${win}`);
      for (let r = 0; r < QUERY_ROUNDS; r++) {
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
      }
    } finally {
      await l.stop();
    }
    delete timings.warmup;
    const out: Record<string, { p50_ms: number; p95_ms: number; n: number }> = {};
    for (const [k, v] of Object.entries(timings)) {
      const sorted = [...v].sort((a, b) => a - b);
      out[k] = { p50_ms: r2(pct(sorted, 0.5)), p95_ms: r2(pct(sorted, 0.95)), n: v.length };
    }
    return { seed: { profiles: SEED, seconds: r2(seedS), profiles_per_s: Math.round(SEED / seedS), db_mb: r2(size / 1e6) }, timings: out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await admin('postgres', (c) => c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));
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

async function main(): Promise<void> {
  console.log(`listener-pg bench: ingest ${INGEST} profiles x ${ROUNDS} rounds, ${SENDERS} senders; query store ${SEED}; ${cpus().length} CPUs, Node ${process.version}`);
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
  const results: Record<string, unknown> = { ingest: { sqlite, pg: pgRuns, ratios }, fleet };
  if (!args['ingest-only']) {
    const q = await queries();
    console.log(`\nqueries over ${SEED} profiles in PostgreSQL (24 h, HTTP round trip, ${QUERY_ROUNDS} rounds)`);
    console.table(q.timings);
    results.seed = q.seed;
    results.queries = q.timings;
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
