/**
 * Listener benchmark (issue 4).
 *
 * 1. Ingest: a `bitville-apm listener` child process on SQLite in a temp dir on local disk,
 *    fed 500-line gzip NDJSON batches of realistic ~10 KB PHP profiles (compressed before the
 *    clock starts), `--senders` requests in flight (default `2,4`, one run each; `--ingest-only`). Baseline, same run and same
 *    batches: gunzip + JSON.parse of every line in this process (the floor of any ingest path).
 *    Reports profiles/s, MB/s (uncompressed and on the wire), listener CPU per profile and RSS.
 * 2. Queries: a store seeded with --profiles (default 1,000,000) profiles spread over the last
 *    24 h by direct batched inserts through the SQLite store (same extraction as ingest; ~2 KB
 *    payloads to keep seeding and disk use sane), then a listener child process on it answers
 *    search and statistics requests over HTTP; p50/p95 per kind.
 *
 *   npm run bench -- --only listener [--profiles 1000000] [--ingest-profiles 50000] [--rounds 40]
 *
 * Targets (issue 4): ingest >= 10,000 profiles/s, search p95 < 50 ms, stats p95 < 500 ms (24 h).
 * Results: a table on stdout and JSON in bench/results/listener.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { extractRecord } from '../src/listener/extract/extract-record.js';
import { createSqliteStore } from '../src/listener/store/sqlite/sqlite-store.js';
import { ENDPOINTS, makeProfile, PROJECT } from './lib/php-profiles.js';

const CLI = new URL('../src/cli/main.js', import.meta.url).pathname; // dist/bench -> dist/src/cli
const TOKEN = 'bench-token';

const { values: args } = parseArgs({
  options: {
    profiles: { type: 'string', default: '1000000' },
    'ingest-profiles': { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '40' },
    /** Concurrent ingest senders (requests in flight), comma-separated to measure several: `2,4`. */
    senders: { type: 'string', default: '2,4' },
    /** Skip the query half (seeding takes minutes). */
    'ingest-only': { type: 'boolean', default: false },
    /** Write a V8 CPU profile of each listener child here (summarise with bench/lib/profile-top.ts). */
    'cpu-prof-dir': { type: 'string' },
  },
  strict: false,
});
const SEED = Number(args.profiles);
const INGEST = Number(args['ingest-profiles']);
const ROUNDS = Number(args.rounds);
const SENDERS = String(args.senders)
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const INGEST_ONLY = args['ingest-only'] === true;
const CPU_PROF_DIR = typeof args['cpu-prof-dir'] === 'string' ? args['cpu-prof-dir'] : null;

// ---------- realistic profiles: bench/lib/php-profiles.ts (shared with listener-pg) ----------

// ---------- helpers ----------
function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

async function spawnListener(dataDir: string): Promise<{ proc: ChildProcess; url: string; stop(): Promise<void> }> {
  const file = join(dataDir, 'listener.yaml');
  writeFileSync(file, stringify({ listen: '127.0.0.1:0', dataDir, tokens: { [TOKEN]: ['*'] }, limits: { linesPerSecond: 1e9, burstLines: 1e9 }, log: { level: 'warn' } }));
  const prof = CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [];
  const proc = spawn(process.execPath, [...prof, CLI, 'listener', '--config', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const s = JSON.parse(readFileSync(join(dataDir, 'listener.json'), 'utf8')) as { pid: number; url: string };
      if (s.pid === proc.pid) {
        return {
          proc,
          url: s.url,
          stop: () => new Promise((resolve) => {
            proc.once('exit', () => resolve());
            proc.kill('SIGTERM');
          }),
        };
      }
    } catch {
      // not written yet
    }
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error('listener did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

// ---------- 1. ingest ----------
/** 500-line gzip batches of ~10 KB profiles; every call makes new correlation ids. */
function makeBatches(): { gz: Buffer; raw: number }[] {
  const now = Date.now() / 1000;
  const batches: { gz: Buffer; raw: number }[] = [];
  for (let b = 0; b < Math.ceil(INGEST / 500); b++) {
    const text = Array.from({ length: 500 }, (_, i) => JSON.stringify(makeProfile(now - 3600 + (b * 500 + i) / 20, true))).join('\n');
    batches.push({ gz: gzipSync(text), raw: Buffer.byteLength(text) });
  }
  return batches;
}

/**
 * `senders` requests in flight, each sending its next batch when the previous one is answered: two
 * is one or two daemons, four the realistic shape of many hosts delivering at once.
 */
async function benchIngest(senders: number): Promise<Record<string, number>> {
  const batches = makeBatches();
  const rawBytes = batches.reduce((s, b) => s + b.raw, 0);
  const wireBytes = batches.reduce((s, b) => s + b.gz.length, 0);

  // Baseline: gunzip + JSON.parse of every line, in this process.
  const b0 = performance.now();
  for (const b of batches) for (const line of gunzipSync(b.gz).toString('utf8').split('\n')) JSON.parse(line);
  const baselineS = (performance.now() - b0) / 1000;

  const dir = mkdtempSync(join(tmpdir(), 'bitville-bench-ingest-'));
  const l = await spawnListener(dir);
  try {
    const cpu0 = await metric(l.url, 'bitville_listener_process_cpu_seconds_total');
    let next = 0;
    const t0 = performance.now();
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const b = batches[next++] as { gz: Buffer };
        const res = await fetch(`${l.url}/v1/ingest`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip' }, body: b.gz });
        const body = (await res.json()) as { accepted: number };
        if (res.status !== 200 || body.accepted !== 500) throw new Error(`ingest answered ${res.status} ${JSON.stringify(body)}`);
      }
    };
    await Promise.all(Array.from({ length: senders }, () => worker()));
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = await metric(l.url, 'bitville_listener_process_cpu_seconds_total');
    const rss = await metric(l.url, 'bitville_listener_process_resident_memory_bytes');
    const profiles = batches.length * 500;
    return {
      senders,
      profiles,
      avg_profile_bytes: Math.round(rawBytes / profiles),
      seconds: round(seconds),
      profiles_per_s: Math.round(profiles / seconds),
      mb_per_s_uncompressed: round(rawBytes / seconds / 1e6),
      mb_per_s_wire: round(wireBytes / seconds / 1e6),
      listener_cpu_us_per_profile: round(((cpu1 - cpu0) * 1e6) / profiles),
      baseline_parse_us_per_profile: round((baselineS * 1e6) / profiles),
      // The machine is shared: ratios to the same run's gunzip + JSON.parse floor compare across runs.
      wall_us_per_profile_over_baseline: round(seconds / baselineS),
      cpu_us_per_profile_over_baseline: round((cpu1 - cpu0) / baselineS),
      listener_rss_mb: round(rss / 1e6),
      db_mb: round(statSync(join(dir, 'listener.db')).size / 1e6),
    };
  } finally {
    await l.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------- 2. queries over a seeded store ----------
async function benchQueries(): Promise<{ seed: Record<string, number>; queries: Record<string, { p50_ms: number; p95_ms: number; n: number }> }> {
  const dir = mkdtempSync(join(tmpdir(), 'bitville-bench-query-'));
  mkdirSync(dir, { recursive: true });
  const now = Math.floor(Date.now() / 1000);
  const from = now - 24 * 3600;
  const store = createSqliteStore({ file: join(dir, 'listener.db') });
  const s0 = performance.now();
  const BATCH = 5000;
  for (let done = 0; done < SEED; done += BATCH) {
    const n = Math.min(BATCH, SEED - done);
    const records = Array.from({ length: n }, (_, i) => {
      const p = makeProfile(from + ((done + i) / SEED) * 24 * 3600, false);
      return extractRecord(p, Buffer.from(JSON.stringify(p)));
    });
    await store.insertBatch(records);
    if ((done / BATCH) % 20 === 0) process.stdout.write(`\rseeded ${done + n}/${SEED}`);
  }
  await store.close();
  const seedS = (performance.now() - s0) / 1000;
  process.stdout.write(`\rseeded ${SEED} profiles in ${seedS.toFixed(1)} s\n`);

  const l = await spawnListener(dir);
  const timings: Record<string, number[]> = {};
  const get = async (kind: string, path: string): Promise<void> => {
    const t0 = performance.now();
    const res = await fetch(`${l.url}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    await res.arrayBuffer();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    (timings[kind] ??= []).push(ms);
  };
  try {
    const win = `project=${PROJECT}&from=${from}&to=${now}`;
    // Warm-up: the first read of each kind pulls pages into the cache.
    for (const k of ['endpoints', 'queries', 'functions']) await get('warmup', `/api/v1/stats/${k}?${win}`);
    for (let r = 0; r < ROUNDS; r++) {
      const e = ENDPOINTS[r % ENDPOINTS.length] as { path: string };
      const page = (await (await fetch(`${l.url}/api/v1/requests?project=${PROJECT}&limit=50`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as { next_cursor: string };
      await get('search: newest 50', `/api/v1/requests?project=${PROJECT}&limit=50`);
      await get('search: next page (cursor)', `/api/v1/requests?project=${PROJECT}&limit=50&cursor=${page.next_cursor}`);
      await get('search: url substring', `/api/v1/requests?project=${PROJECT}&url=${encodeURIComponent(e.path)}&limit=50`);
      await get('search: min_ms 1000, last hour', `/api/v1/requests?project=${PROJECT}&min_ms=1000&from=${now - 3600}&limit=50`);
      await get('search: status 500 + host', `/api/v1/requests?project=${PROJECT}&status=500&host=web-0${r % 8}&limit=50`);
      await get('stats: endpoints 24 h', `/api/v1/stats/endpoints?${win}&limit=20`);
      await get('stats: queries 24 h', `/api/v1/stats/queries?${win}&limit=20`);
      await get('stats: functions 24 h', `/api/v1/stats/functions?${win}&limit=20`);
      await get('stats: timeseries 24 h / 60 s', `/api/v1/stats/timeseries?${win}&step=60`);
    }
  } finally {
    await l.stop();
  }
  const dbMb = statSync(join(dir, 'listener.db')).size / 1e6;
  rmSync(dir, { recursive: true, force: true });
  delete timings.warmup;
  const queries: Record<string, { p50_ms: number; p95_ms: number; n: number }> = {};
  for (const [k, v] of Object.entries(timings)) {
    const sorted = [...v].sort((a, b) => a - b);
    queries[k] = { p50_ms: round(pct(sorted, 0.5)), p95_ms: round(pct(sorted, 0.95)), n: v.length };
  }
  return { seed: { profiles: SEED, seconds: round(seedS), profiles_per_s: Math.round(SEED / seedS), db_mb: round(dbMb) }, queries };
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

async function main(): Promise<void> {
  console.log(`listener bench: ingest ${INGEST} profiles, query store ${SEED} profiles, ${ROUNDS} rounds; ${cpus().length} CPUs, Node ${process.version}`);
  const ingestRuns: Record<string, number>[] = [];
  for (const senders of SENDERS) {
    const run = await benchIngest(senders);
    ingestRuns.push(run);
    console.log(`\ningest (500-line gzip batches, ${senders} in flight, SQLite on local disk)`);
    console.table(run);
  }
  const ingest = ingestRuns.reduce((best, r) => ((r.profiles_per_s ?? 0) > (best.profiles_per_s ?? 0) ? r : best), ingestRuns[0] ?? {});
  if (INGEST_ONLY) {
    writeResults({ ingest: ingestRuns });
    return;
  }
  const q = await benchQueries();
  console.log(`\nqueries over ${SEED} stored profiles spread over 24 h (HTTP round trip, ${ROUNDS} rounds)`);
  console.table(q.queries);
  const searchP95 = Math.max(...Object.entries(q.queries).filter(([k]) => k.startsWith('search')).map(([, v]) => v.p95_ms));
  const statsP95 = Math.max(...Object.entries(q.queries).filter(([k]) => k.startsWith('stats')).map(([, v]) => v.p95_ms));
  const targets = {
    [`ingest >= 10000 profiles/s (${ingest.senders ?? 0} senders)`]: { value: ingest.profiles_per_s ?? 0, met: (ingest.profiles_per_s ?? 0) >= 10_000 },
    'search p95 < 50 ms (worst kind)': { value: searchP95, met: searchP95 < 50 },
    'stats p95 < 500 ms over 24 h (worst kind)': { value: statsP95, met: statsP95 < 500 },
  };
  console.log('\ntargets');
  console.table(targets);
  writeResults({ ingest: ingestRuns, seed: q.seed, queries: q.queries, targets });
}

function writeResults(results: Record<string, unknown>): void {
  const out = new URL('./results/listener.json', new URL('../../bench/', import.meta.url));
  mkdirSync(new URL('.', out), { recursive: true });
  writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: cpus().length, ...results }, null, 2));
  console.log(`\nwrote ${out.pathname}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
