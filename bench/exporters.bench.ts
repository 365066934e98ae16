/**
 * Exporter benchmark (issue 14): can the listener export what it ingests, at 5,000 profiles/s?
 *
 * A `bitville-apm listener` child on SQLite in a temp dir is fed ~10 KB PHP profiles in 500-line
 * gzip batches at a fixed pace (two requests in flight at most) for `--seconds` (default 8), and
 * exports them at the same time to a receiver in this process: GELF over TCP or OTLP/HTTP protobuf
 * (bodies read and answered 200; spans not decoded, to keep this process light). Baseline, same
 * run: ingest with no exporter. Reported per scenario: ingest rate, export rate from the first
 * ingest until the last record was confirmed, how long after ingest ended the exporter caught up,
 * listener CPU per profile (all its threads) and per exported record (minus the baseline's), peak RSS.
 *
 *   npm run bench -- --only exporters [--rate 5000 | --rate max] [--seconds 8] [--exporters none,gelf,otlp]
 *     [--gelf-options JSON] [--otlp-options JSON] [--cpu-prof-dir DIR]
 *
 * `--rate max`: each scenario starts at 5,000/s and, while it is not sustained (ingest below 95 %
 * of the pace, or the exporter not keeping up), runs again at 92 % of the slower of what ingest and
 * export reached, at most five runs; the table shows the last run, the highest rate sustained.
 * Target (issue 14): exporting keeps up with 5,000 profiles/s of ingest (export rate >= 95 % of
 * the ingest rate, caught up within 2 s of the last batch). Results: stdout and bench/results/exporters.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { buildProfileTemplate, correlationId, messageFor } from './lib/payload.js';
import { cpuMicros, peakRssBytes, threadCpuMicros } from './lib/proc.js';
import { fmt, table } from './lib/stats.js';

const CLI = new URL('../src/cli/main.js', import.meta.url).pathname;
const TOKEN = 'bench-token';
const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '8' },
    exporters: { type: 'string', default: 'none,gelf,otlp' },
    'gelf-options': { type: 'string', default: '{}' },
    'otlp-options': { type: 'string', default: '{}' },
    'cpu-prof-dir': { type: 'string' },
  },
  strict: false,
});
const SEARCH = args.rate === 'max';
const TARGET = 5000;
const START_RATE = SEARCH ? TARGET : Number(args.rate);
const SECONDS = Number(args.seconds);
const KINDS = String(args.exporters).split(',') as Kind[];
const CPU_PROF_DIR = typeof args['cpu-prof-dir'] === 'string' ? args['cpu-prof-dir'] : null;
/** Extra exporter settings, e.g. --otlp-options '{"functionSpans":10,"batchRecords":500}' (listener.yaml keys). */
const EXTRA = { gelf: JSON.parse(String(args['gelf-options'])) as Record<string, unknown>, otlp: JSON.parse(String(args['otlp-options'])) as Record<string, unknown> };
/** How long a run waits for the exporter to catch up after ingest before calling it behind. */
const CATCH_UP_CAP_S = 30;
const BATCH = 500;

type Kind = 'none' | 'gelf' | 'otlp';

interface Receiver {
  config: Record<string, unknown>;
  close(): Promise<void>;
}

async function gelfReceiver(): Promise<Receiver> {
  // Reads and discards (a receiver that keeps up); what was sent is the exporter's confirmed count.
  const server = createServer((s) => {
    s.on('data', () => undefined);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return { config: { gelf: { url: `tcp://127.0.0.1:${port}`, ...EXTRA.gelf } }, close: () => new Promise((r) => server.close(() => r())) };
}

async function otlpReceiver(): Promise<Receiver> {
  const server = createHttpServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    config: { otlp: { url: `http://127.0.0.1:${port}/v1/traces`, ...EXTRA.otlp } },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function spawnListener(dir: string, exporters: Record<string, unknown>): Promise<{ proc: ChildProcess; url: string }> {
  const file = join(dir, 'listener.yaml');
  writeFileSync(file, stringify({ listen: '127.0.0.1:0', dataDir: dir, tokens: { [TOKEN]: ['*'] }, limits: { linesPerSecond: 1e9, burstLines: 1e9 }, log: { level: 'warn' }, exporters }));
  const prof = CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [];
  const proc = spawn(process.execPath, [...prof, CLI, 'listener', '--config', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const s = JSON.parse(readFileSync(join(dir, 'listener.json'), 'utf8')) as { pid: number; url: string };
      if (s.pid === proc.pid) return { proc, url: s.url };
    } catch {
      // not written yet
    }
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error('listener did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Records the exporter confirmed, and when it last confirmed a batch (unix s, the listener's clock). */
async function exportProgress(url: string, kind: Kind): Promise<{ sent: number; lastSentAt: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sent = new RegExp(`^bitville_listener_export_sent_records_total\\{exporter="${kind}"\\} (\\d+)`, 'm').exec(text);
  const last = new RegExp(`^bitville_listener_export_last_sent_timestamp_seconds\\{exporter="${kind}"\\} ([\\d.e+]+)`, 'm').exec(text);
  return { sent: sent ? Number(sent[1]) : 0, lastSentAt: last ? Number(last[1]) : 0 };
}

function batches(run: number, rate: number): Buffer[] {
  const template = buildProfileTemplate(10 * 1024);
  const total = Math.round(rate * SECONDS);
  const out: Buffer[] = [];
  for (let b = 0; b < Math.ceil(total / BATCH); b++) {
    const lines = Array.from({ length: Math.min(BATCH, total - b * BATCH) }, (_, i) => messageFor(template, correlationId(run, 0, b * BATCH + i)));
    out.push(gzipSync(Buffer.from(lines.map((l) => l.toString('utf8')).join('\n'))));
  }
  return out;
}

interface Result {
  exporter: Kind;
  rate: number;
  profiles: number;
  ingest_per_s: number;
  export_per_s: number;
  caught_up_after_ingest_s: number;
  listener_cpu_us_per_profile: number;
  /** The listener's main thread only (HTTP, the SQLite transactions, the exporter's reads): the rest is parse and export threads. */
  event_loop_cpu_us_per_profile: number;
  exported: number;
  peak_rss_mb: number;
}

async function scenario(kind: Kind, run: number, rate: number): Promise<Result> {
  const body = batches(run, rate);
  const total = Math.round(rate * SECONDS);
  const receiver = kind === 'gelf' ? await gelfReceiver() : kind === 'otlp' ? await otlpReceiver() : null;
  const dir = mkdtempSync(join(tmpdir(), `bitville-bench-export-${kind}-`));
  const l = await spawnListener(dir, receiver?.config ?? {});
  try {
    const pid = l.proc.pid as number;
    const cpu0 = cpuMicros(pid);
    const loop0 = threadCpuMicros(pid, pid);
    const t0 = performance.now();
    const t0Epoch = Date.now() / 1000;
    const intervalMs = (BATCH / rate) * 1000;
    // Paced: batch k leaves at t0 + k * interval, two in flight at most, so ingest is a steady `rate`.
    let next = 0;
    const sender = async (): Promise<void> => {
      while (next < body.length) {
        const k = next++;
        const due = t0 + k * intervalMs - performance.now();
        if (due > 0) await new Promise((r) => setTimeout(r, due));
        const res = await fetch(`${l.url}/v1/ingest`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip' }, body: body[k] as Buffer });
        if (res.status !== 200) throw new Error(`ingest answered ${res.status}`);
        await res.arrayBuffer();
      }
    };
    await Promise.all([sender(), sender()]);
    const ingestS = (performance.now() - t0) / 1000;
    let doneS = ingestS;
    let sent = total;
    if (kind !== 'none') {
      // Until all are confirmed, or (a run that does not keep up) CATCH_UP_CAP_S after the last batch.
      // Polled 4 times a second (each /metrics answer costs the listener CPU, which would be counted
      // as export cost); the end is the listener's own time of its last confirmed batch.
      for (;;) {
        const p = await exportProgress(l.url, kind);
        sent = p.sent;
        doneS = (performance.now() - t0) / 1000;
        if (sent >= total) {
          doneS = Math.max(ingestS, p.lastSentAt - t0Epoch);
          break;
        }
        if (doneS - ingestS > CATCH_UP_CAP_S) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const cpuUs = cpuMicros(pid) - cpu0;
    const loopUs = threadCpuMicros(pid, pid) - loop0;
    if (process.env.BENCH_THREADS) {
      const { readdirSync } = await import('node:fs');
      const per = readdirSync(`/proc/${pid}/task`).map((t) => [t, Math.round(threadCpuMicros(pid, Number(t)) / total)] as const).filter(([, us]) => us > 2).sort((a, b) => b[1] - a[1]);
      console.log(kind, 'µs/profile by thread (whole life):', JSON.stringify(per));
    }
    return {
      exporter: kind,
      rate,
      profiles: total,
      ingest_per_s: Math.round(total / ingestS),
      export_per_s: kind === 'none' ? 0 : Math.round(Math.min(sent, total) / doneS),
      caught_up_after_ingest_s: Math.round((doneS - ingestS) * 100) / 100,
      listener_cpu_us_per_profile: Math.round(cpuUs / total),
      event_loop_cpu_us_per_profile: Math.round(loopUs / total),
      exported: kind === 'none' ? 0 : Math.min(sent, total),
      peak_rss_mb: Math.round(peakRssBytes(pid) / 1e6),
    };
  } finally {
    await new Promise<void>((resolve) => {
      l.proc.once('exit', () => resolve());
      l.proc.kill('SIGTERM');
    });
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function keepsUp(r: Result): boolean {
  return r.exporter === 'none' || (r.exported >= r.profiles && r.export_per_s >= 0.95 * r.ingest_per_s && r.caught_up_after_ingest_s <= 2);
}

function sustained(r: Result): boolean {
  return r.ingest_per_s >= 0.95 * r.rate && keepsUp(r);
}

/** One scenario at START_RATE; with --rate max, again at lower rates until one is sustained. */
async function measure(kind: Kind, run: number): Promise<Result> {
  let rate = START_RATE;
  for (let attempt = 1; ; attempt++) {
    const r = await scenario(kind, run * 10 + attempt, rate);
    console.log(JSON.stringify(r));
    if (!SEARCH || sustained(r) || attempt === 5) return r;
    const reached = Math.min(r.ingest_per_s, r.exporter === 'none' ? Infinity : r.export_per_s);
    rate = Math.max(100, Math.floor((0.92 * Math.min(reached, rate)) / 100) * 100);
  }
}

async function main(): Promise<void> {
  console.log(`exporters: ${SEARCH ? `highest sustained rate from ${TARGET}/s down` : `${START_RATE} profiles/s`} of ~10 KB profiles for ${SECONDS} s per run, ${cpus().length} CPUs (shared machine: compare within one run)`);
  const results: Result[] = [];
  for (const [i, kind] of KINDS.entries()) results.push(await measure(kind, i + 1));
  // CPU per exported record: the listener's CPU per profile above an ingest-only run of the same invocation.
  const base = results.find((r) => r.exporter === 'none');
  const rows = results.map((r) => ({
    ...r,
    export_cpu_us_per_record: r.exporter === 'none' || !base ? 0 : r.listener_cpu_us_per_profile - base.listener_cpu_us_per_profile,
    keeps_up: r.exporter === 'none' ? '-' : keepsUp(r) ? 'yes' : 'NO',
  }));
  console.log(
    table(
      ['exporter', 'paced at', 'ingest/s', 'export/s', 'caught up after', 'listener CPU/profile', 'of it event loop', 'export CPU/record', 'peak RSS', 'keeps up'],
      rows.map((r) => [r.exporter, fmt(r.rate), fmt(r.ingest_per_s), fmt(r.export_per_s), `${r.caught_up_after_ingest_s} s`, `${r.listener_cpu_us_per_profile} µs`, `${r.event_loop_cpu_us_per_profile} µs`, base ? `${r.export_cpu_us_per_record} µs` : '-', `${r.peak_rss_mb} MB`, r.keeps_up]),
    ),
  );
  const target = rows.every((r) => r.rate >= TARGET && sustained(r));
  console.log(`target (every scenario sustained at ${TARGET} profiles/s): ${target ? 'met' : 'NOT met'}`);
  const out = new URL('./results/', new URL('../../bench/', import.meta.url));
  mkdirSync(out, { recursive: true });
  writeFileSync(new URL('exporters.json', out), JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: cpus().length, rate: SEARCH ? 'max' : START_RATE, seconds: SECONDS, rows, target_met: target }, null, 2));
  if (rows.some((r) => r.keeps_up === 'NO')) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
