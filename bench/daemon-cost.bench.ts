/**
 * The daemon against syslog-ng, side by side in one run (issue 10): the same 10 KB PHP profiles,
 * one connection per message as PHP-FPM sends them, from the same load generator, into
 *   syslog-ng   unix-stream -> reliable disk-buffer -> http(batch-lines 500, batch-timeout 1000)
 *   memory-gzip / memory-none / durable-gzip / durable-none   the daemon, by buffer mode and
 *               forward.compression (defaults otherwise: batchItems 500, lingerMs 200)
 *   <variant>-activated   the same daemon as one process under systemd socket activation
 *               (systemd-socket-activate holds the socket; no supervisor: docs/daemon.md)
 * and both deliver to the same HTTP sink (a separate process that counts profiles). Per run:
 * ingest msg/s (all sends done), delivered msg/s (first send to last profile at the sink), CPU
 * of the whole process tree per 10k messages, peak RSS and PSS of the whole tree (sampled) and of
 * the root process (the daemon's supervisor), the tail: from the last send to the last
 * delivery, the spool segments the daemon wrote (memory mode spills while the forwarder is
 * busy) and its V8 mark-compacts (a run with a storm of them costs 15-25 % more CPU). Fresh processes every run; the order alternates across rounds; medians + raw rounds.
 *
 *   npm run bench -- --only daemon-cost [--messages 20000] [--rounds 2] [--concurrency 4,16]
 *     [--variants syslog-ng,memory-gzip,memory-none,durable-gzip,durable-none,memory-gzip-activated,durable-gzip-activated]
 *     [--worker-node-args="--max-semi-space-size=2"]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stopChild } from './lib/child.js';
import { startBenchDaemon } from './lib/delivery-daemon.js';
import { startHttpSink } from './lib/http-sink-process.js';
import { cpuMicros, sampleMemory, type MemoryPeaks } from './lib/proc.js';
import type { SenderResult } from './lib/sender.js';
import { startSenderFleet, type SenderFleet } from './lib/sender-fleet.js';
import { startServer, syslogNgInstalled } from './lib/servers.js';
import { fmt, median, table } from './lib/stats.js';
import { gitCommit } from './lib/git-commit.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '4,16' },
    size: { type: 'string', default: '10240' },
    variants: { type: 'string', default: 'syslog-ng,memory-gzip,memory-none,durable-gzip,durable-none,memory-gzip-activated,durable-gzip-activated' },
    'worker-node-args': { type: 'string', default: '' },
    out: { type: 'string', default: 'bench/results/daemon-cost.json' },
  },
  strict: true,
});

const ALL = [
  'syslog-ng',
  'memory-gzip',
  'memory-none',
  'durable-gzip',
  'durable-none',
  'memory-gzip-activated',
  'memory-none-activated',
  'durable-gzip-activated',
  'durable-none-activated',
] as const;
type Variant = (typeof ALL)[number];
const cfg = { messages: Number(args.messages), rounds: Number(args.rounds), size: Number(args.size), workerNodeArgs: args['worker-node-args'] };
/** prom-client's GC histogram in the daemon's registry (worker and supervisor alike). */
const FULL_GCS = 'bitville_daemon_nodejs_gc_duration_seconds_count';
const levels = args.concurrency.split(',').map(Number).filter((n) => n > 0);
let variants = args.variants.split(',').filter((v): v is Variant => (ALL as readonly string[]).includes(v));
if (variants.includes('syslog-ng') && !syslogNgInstalled()) {
  console.log('syslog-ng not installed (apt-get install syslog-ng-core syslog-ng-mod-http): compared against nothing but itself');
  variants = variants.filter((v) => v !== 'syslog-ng');
}
let runTag = Math.floor(Date.now() / 1000) & 0xffff;

interface Run {
  variant: Variant;
  concurrency: number;
  round: number;
  ingestMsgsPerSec: number;
  deliveredMsgsPerSec: number;
  cpuSPer10k: number;
  tailMs: number;
  memory: MemoryPeaks;
  /** Spool segments the daemon wrote (memory overflow while the forwarder was busy; durable appends and seals). */
  segmentsWritten: number | null;
  /** fdatasyncs of the open durable segment (spool_fsyncs_total). */
  fsyncs: number | null;
  /**
   * V8 mark-compacts in the daemon during the run (its `nodejs_gc_duration_seconds` count, kind
   * major): a run with a storm of them costs 15-25 % more CPU (docs/benchmarks.md, "One batch ahead").
   */
  fullGcs: number | null;
  failed: number;
}

/** Up to 4 sender processes that together keep `concurrency` connections in flight. */
function startSenders(socket: string, total: number, concurrency: number): Promise<SenderFleet> {
  const processes = Math.min(4, concurrency);
  return startSenderFleet({ socket, total, processes, concurrency: Math.max(1, Math.round(concurrency / processes)), ratePerSec: 0, sizeBytes: cfg.size, runTag: runTag++ });
}


async function runDaemon(variant: Exclude<Variant, 'syslog-ng'>, concurrency: number, round: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), `bitville-cost-${variant}-`));
  const sink = await startHttpSink();
  const [mode, compression, model] = variant.split('-') as ['memory' | 'durable', 'gzip' | 'none', 'activated' | undefined];
  let daemon: Awaited<ReturnType<typeof startBenchDaemon>> | undefined;
  let senders: SenderFleet | undefined;
  try {
    daemon = await startBenchDaemon(
      dir,
      { buffer: { mode }, forward: { url: sink.url, token: 'bench', compression } },
      cfg.workerNodeArgs.split(' ').filter(Boolean),
      model === 'activated',
    );
    senders = await startSenders(daemon.socket, cfg.messages, concurrency);
    const gcs0 = await daemon.counter(FULL_GCS, 'kind="major"');
    const memory = sampleMemory(daemon.pid);
    const cpu0 = cpuMicros(daemon.pid);
    const t0 = Date.now();
    const delivered = sink.reached(cfg.messages);
    const sent = await senders.go();
    const tSent = Date.now();
    const tLast = await delivered;
    const cpuUs = cpuMicros(daemon.pid) - cpu0;
    const spool = {
      segments: await daemon.counter('bitville_daemon_spool_segments_written_total'),
      fsyncs: await daemon.counter('bitville_daemon_spool_fsyncs_total'),
      fullGcs: (await daemon.counter(FULL_GCS, 'kind="major"')) - gcs0,
    };
    return result(variant, concurrency, round, t0, tSent, tLast, cpuUs, memory.stop(), sent, spool);
  } finally {
    await senders?.stop();
    await daemon?.stop(); // a daemon that failed to start leaves no sink behind either
    await stopChild(sink.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runSyslogNg(concurrency: number, round: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'bitville-cost-sng-'));
  const server = await startServer('syslog-ng', { dir, daemonNodeArgs: [] });
  let senders: SenderFleet | undefined;
  try {
    senders = await startSenders(server.socket, cfg.messages, concurrency);
    const memory = sampleMemory(server.pid);
    const cpu0 = cpuMicros(server.pid);
    const t0 = Date.now();
    const sent = await senders.go();
    const tSent = Date.now();
    const details = await server.details(cfg.messages); // resolves once its http sink has them all
    if (details.deliveryError) throw new Error(`syslog-ng did not deliver: ${String(details.deliveryError)}`);
    const tLast = Date.now();
    const cpuUs = cpuMicros(server.pid) - cpu0;
    return result('syslog-ng', concurrency, round, t0, tSent, tLast, cpuUs, memory.stop(), sent, null);
  } finally {
    await senders?.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function result(variant: Variant, concurrency: number, round: number, t0: number, tSent: number, tLast: number, cpuUs: number, memory: MemoryPeaks, sent: SenderResult[], spool: { segments: number; fsyncs: number; fullGcs: number } | null): Run {
  return {
    variant,
    concurrency,
    round,
    ingestMsgsPerSec: (cfg.messages / (tSent - t0)) * 1000,
    deliveredMsgsPerSec: (cfg.messages / (tLast - t0)) * 1000,
    cpuSPer10k: (cpuUs / 1e6 / cfg.messages) * 10_000,
    tailMs: tLast - tSent,
    memory,
    segmentsWritten: spool?.segments ?? null,
    fsyncs: spool?.fsyncs ?? null,
    fullGcs: spool?.fullGcs ?? null,
    failed: sent.reduce((n, r) => n + r.failed, 0),
  };
}


async function main(): Promise<void> {
  const machine = { commit: gitCommit(), nproc: cpus().length, node: process.version, loadavgAtStart: loadavg().map((x) => Math.round(x * 100) / 100) };
  console.log(`daemon-cost bench at ${machine.commit}: ${cfg.messages} x ${cfg.size}-byte profiles, concurrency ${levels.join(', ')}, ${variants.join(', ')}${cfg.workerNodeArgs ? `, node ${cfg.workerNodeArgs}` : ''}; load ${machine.loadavgAtStart.join(' ')}`);
  const runs: Run[] = [];
  for (let round = 0; round < cfg.rounds; round++) {
    for (const c of levels) {
      for (const v of round % 2 === 0 ? variants : [...variants].reverse()) {
        const r = v === 'syslog-ng' ? await runSyslogNg(c, round) : await runDaemon(v, c, round);
        runs.push(r);
        console.log(
          `  round ${round + 1} c${c} ${v.padEnd(22)} ingest ${fmt(r.ingestMsgsPerSec).padStart(6)} msg/s  delivered ${fmt(r.deliveredMsgsPerSec).padStart(6)} msg/s  CPU ${fmt(r.cpuSPer10k, 2)} s/10k  RSS ${fmt(r.memory.rssMb, 1)} MB (PSS ${fmt(r.memory.pssMb, 1)}; root ${fmt(r.memory.rootRssMb, 1)}/${fmt(r.memory.rootPssMb, 1)})  tail ${fmt(r.tailMs)} ms${r.segmentsWritten === null ? '' : `  segments ${r.segmentsWritten}  fsyncs ${r.fsyncs ?? '-'}  full GCs ${r.fullGcs ?? '-'}`}${r.failed ? `  FAILED ${r.failed}` : ''}`,
        );
      }
    }
  }
  const targets: string[] = [];
  for (const c of levels) {
    const of = (v: Variant) => runs.filter((r) => r.variant === v && r.concurrency === c);
    const sng = of('syslog-ng');
    const ratio = (rs: Run[], f: (r: Run) => number) => {
      const per = rs.map((r) => {
        const base = sng.find((x) => x.round === r.round);
        return base ? f(r) / f(base) : Number.NaN;
      });
      return per.some(Number.isNaN) ? '' : `${fmt(median(per), 2)}x`;
    };
    console.log(`\n== c${c}: ${cfg.messages} profiles, median of ${cfg.rounds} rounds (ratios to syslog-ng in the same round)`);
    const rows = variants.map((v) => {
      const rs = of(v);
      return [
        v,
        `${fmt(median(rs.map((r) => r.ingestMsgsPerSec)))} ${v === 'syslog-ng' ? '' : `(${ratio(rs, (r) => r.ingestMsgsPerSec)})`}`,
        `${fmt(median(rs.map((r) => r.deliveredMsgsPerSec)))} ${v === 'syslog-ng' ? '' : `(${ratio(rs, (r) => r.deliveredMsgsPerSec)})`}`,
        `${fmt(median(rs.map((r) => r.cpuSPer10k)), 2)} ${v === 'syslog-ng' ? '' : `(${ratio(rs, (r) => r.cpuSPer10k)})`}`,
        `${fmt(Math.max(...rs.map((r) => r.memory.rssMb)), 1)} / ${fmt(Math.max(...rs.map((r) => r.memory.pssMb)), 1)}`,
        `${fmt(Math.max(...rs.map((r) => r.memory.rootRssMb)), 1)} / ${fmt(Math.max(...rs.map((r) => r.memory.rootPssMb)), 1)}`,
        fmt(median(rs.map((r) => r.tailMs))),
        v === 'syslog-ng' ? '-' : fmt(median(rs.map((r) => r.segmentsWritten ?? 0))),
        v === 'syslog-ng' ? '-' : fmt(median(rs.map((r) => r.fsyncs ?? 0))),
        v === 'syslog-ng' ? '-' : rs.map((r) => r.fullGcs ?? '-').join('/'),
        rs.map((r) => fmt(r.deliveredMsgsPerSec)).join('/'),
      ];
    });
    console.log(table(['variant', 'ingest msg/s', 'delivered msg/s', 'CPU s / 10k msgs', 'peak RSS / PSS MB (all)', 'root RSS / PSS MB', 'tail ms', 'segments written', 'fsyncs', 'full GCs', 'raw delivered'], rows));
    for (const v of variants.filter((x) => x !== 'syslog-ng')) {
      const rs = of(v);
      const cpu = ratio(rs, (r) => r.cpuSPer10k);
      const del = ratio(rs, (r) => r.deliveredMsgsPerSec);
      const limit = v.includes('-none') ? 1 : 1.2;
      if (cpu) targets.push(`${Number.parseFloat(cpu) <= limit ? 'PASS' : 'FAIL'}  c${c} ${v}: CPU per message <= ${limit}x syslog-ng: ${cpu}`);
      if (del) targets.push(`${Number.parseFloat(del) >= 1 ? 'PASS' : 'FAIL'}  c${c} ${v}: delivered msg/s >= syslog-ng: ${del}`);
      const rss = Math.max(...rs.map((r) => r.memory.rssMb));
      const pss = Math.max(...rs.map((r) => r.memory.pssMb));
      targets.push(`${rss < 100 ? 'PASS' : 'FAIL'}  c${c} ${v}: peak RSS of all processes < 100 MB: ${fmt(rss, 1)} MB (PSS ${fmt(pss, 1)} MB)`);
      const root = Math.max(...rs.map((r) => r.memory.rootRssMb));
      if (v.endsWith('-activated')) targets.push(`n/a   c${c} ${v}: supervisor RSS < 40 MB: no supervisor (systemd holds the socket)`);
      else targets.push(`${root < 40 ? 'PASS' : 'FAIL'}  c${c} ${v}: supervisor RSS < 40 MB: ${fmt(root, 1)} MB (PSS ${fmt(Math.max(...rs.map((r) => r.memory.rootPssMb)), 1)} MB)`);
      const tail = median(rs.map((r) => r.tailMs));
      targets.push(`${tail <= 200 + 100 ? 'PASS' : 'FAIL'}  c${c} ${v}: last profile delivered within lingerMs (200) + 100 ms of the last send: ${fmt(tail)} ms`);
    }
  }
  console.log('\n== targets (reported, not enforced)');
  for (const t of targets) console.log(`  ${t}`);
  console.log(`  load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (compare the ratios; absolute numbers move with other work on the machine)`);
  mkdirSync(join(args.out, '..'), { recursive: true });
  writeFileSync(args.out, JSON.stringify({ benchmark: 'daemon-cost', at: new Date().toISOString(), machine, config: { ...cfg, levels, variants }, targets, runs }, null, 2) + '\n');
  console.log(`\nwrote ${args.out}`);
  if (runs.some((r) => r.failed > 0)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
