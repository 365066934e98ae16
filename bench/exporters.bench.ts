/**
 * Exporter benchmark (issue 14): can the listener export what it ingests, at 5,000 profiles/s?
 *
 * A `bitville-apm listener` child on SQLite in a temp dir is fed ~10 KB PHP profiles in 500-line
 * gzip batches at a fixed pace (`--rate`, default 5,000 profiles/s, for `--seconds`, default 8) and
 * exports them at the same time to a receiver in this process: GELF over TCP
 * or OTLP/HTTP protobuf (bodies read and answered 200; spans not decoded, to keep this process
 * light); both read and discard. Baseline, same run and same pacing: ingest with no exporter. Reported per exporter:
 * export rate from the first ingest until the last record was confirmed, how long after ingest
 * ended the exporter caught up, listener CPU per exported record (the run's listener CPU minus the
 * baseline's, per record) and peak RSS.
 *
 *   npm run bench -- --only exporters [--rate 5000] [--seconds 8]
 *
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
import { cpuMicros, peakRssBytes } from './lib/proc.js';
import { fmt, table } from './lib/stats.js';

const CLI = new URL('../src/cli/main.js', import.meta.url).pathname;
const TOKEN = 'bench-token';
const { values: args } = parseArgs({ options: { rate: { type: 'string', default: '5000' }, seconds: { type: 'string', default: '8' } }, strict: false });
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
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
  return { config: { gelf: { url: `tcp://127.0.0.1:${port}` } }, close: () => new Promise((r) => server.close(() => r())) };
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
    config: { otlp: { url: `http://127.0.0.1:${port}/v1/traces` } },
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
  const proc = spawn(process.execPath, [CLI, 'listener', '--config', file], { stdio: ['ignore', 'inherit', 'inherit'] });
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

async function sentRecords(url: string, kind: Kind): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^bitville_listener_export_sent_records_total\\{exporter="${kind}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

function batches(run: number): Buffer[] {
  const template = buildProfileTemplate(10 * 1024);
  const total = Math.round(RATE * SECONDS);
  const out: Buffer[] = [];
  for (let b = 0; b < Math.ceil(total / BATCH); b++) {
    const lines = Array.from({ length: Math.min(BATCH, total - b * BATCH) }, (_, i) => messageFor(template, correlationId(run, 0, b * BATCH + i)));
    out.push(gzipSync(Buffer.from(lines.map((l) => l.toString('utf8')).join('\n'))));
  }
  return out;
}

interface Result {
  exporter: Kind;
  profiles: number;
  ingest_per_s: number;
  export_per_s: number;
  caught_up_after_ingest_s: number;
  listener_cpu_us_per_profile: number;
  peak_rss_mb: number;
}

async function scenario(kind: Kind, run: number): Promise<Result> {
  const body = batches(run);
  const total = Math.round(RATE * SECONDS);
  const receiver = kind === 'gelf' ? await gelfReceiver() : kind === 'otlp' ? await otlpReceiver() : null;
  const dir = mkdtempSync(join(tmpdir(), `bitville-bench-export-${kind}-`));
  const l = await spawnListener(dir, receiver?.config ?? {});
  try {
    const pid = l.proc.pid as number;
    const cpu0 = cpuMicros(pid);
    const t0 = performance.now();
    const intervalMs = (BATCH / RATE) * 1000;
    // Paced: batch k leaves at t0 + k * interval, two in flight at most, so ingest is a steady 5,000/s.
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
    if (kind !== 'none') {
      for (;;) {
        if ((await sentRecords(l.url, kind)) >= total) break;
        if (performance.now() - t0 > (SECONDS + 120) * 1000) throw new Error(`${kind}: not all records exported after 120 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
      doneS = (performance.now() - t0) / 1000;
    }
    const cpuUs = cpuMicros(pid) - cpu0;
    return {
      exporter: kind,
      profiles: total,
      ingest_per_s: Math.round(total / ingestS),
      export_per_s: kind === 'none' ? 0 : Math.round(total / doneS),
      caught_up_after_ingest_s: Math.round((doneS - ingestS) * 100) / 100,
      listener_cpu_us_per_profile: Math.round(cpuUs / total),
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

async function main(): Promise<void> {
  console.log(`exporters: ${RATE} profiles/s of ~10 KB profiles for ${SECONDS} s, ${cpus().length} CPUs (shared machine: compare within one run)`);
  const base = await scenario('none', 1);
  console.log(JSON.stringify(base));
  const gelf = await scenario('gelf', 2);
  console.log(JSON.stringify(gelf));
  const otlp = await scenario('otlp', 3);
  console.log(JSON.stringify(otlp));
  const rows = [base, gelf, otlp].map((r) => ({
    ...r,
    export_cpu_us_per_record: r.exporter === 'none' ? 0 : r.listener_cpu_us_per_profile - base.listener_cpu_us_per_profile,
    keeps_up: r.exporter === 'none' ? '-' : r.export_per_s >= 0.95 * r.ingest_per_s && r.caught_up_after_ingest_s <= 2 ? 'yes' : 'NO',
  }));
  console.log(
    table(
      ['exporter', 'ingest/s', 'export/s', 'caught up after', 'listener CPU/profile', 'export CPU/record', 'peak RSS', 'keeps up'],
      rows.map((r) => [r.exporter, fmt(r.ingest_per_s), fmt(r.export_per_s), `${r.caught_up_after_ingest_s} s`, `${r.listener_cpu_us_per_profile} µs`, `${r.export_cpu_us_per_record} µs`, `${r.peak_rss_mb} MB`, r.keeps_up]),
    ),
  );
  const out = new URL('./results/', new URL('../../bench/', import.meta.url));
  mkdirSync(out, { recursive: true });
  writeFileSync(new URL('exporters.json', out), JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: cpus().length, rate: RATE, seconds: SECONDS, rows }, null, 2));
  if (rows.some((r) => r.keeps_up === 'NO')) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
