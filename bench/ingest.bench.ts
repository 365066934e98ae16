/**
 * Ingest benchmark (issue 2): realistic ~10 KB PHP profiles, one connection per message as
 * PHP-FPM sends them, into
 *   sink      a raw Node Unix-socket server (accept, read, discard): the baseline, same run
 *   memory    the daemon, buffer.mode memory (overflow to spool segments: no forwarder yet)
 *   memory-full  the same with ingest.validation full: JSON.parse of every message (its cost)
 *   durable   the daemon, buffer.mode durable (append + group fsync before "accepted")
 *   syslog-ng unix-stream -> reliable disk-buffer -> http(batch-lines 500), where installed
 * under two load shapes: max throughput (--messages as fast as the senders go) and a fixed
 * rate (--rate msg/s for --rate-seconds) for the latency target.
 *
 * Every measured run starts a fresh server process and fresh sender processes; the variant
 * order alternates across rounds; ratios to the sink are taken per round, reported as the
 * median plus the raw rounds. Results: a table on stdout, JSON in bench/results/ingest.json.
 *
 *   npm run bench -- --only ingest [--messages 20000] [--rounds 3] [--senders 4]
 *     [--concurrency 8] [--rate 1000] [--rate-seconds 5] [--warmup-seconds 1] [--variants sink,memory,durable,syslog-ng]
 *     [--shapes throughput,rate] [--cpu-prof]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readdirSync, renameSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { cpuMicros, peakRssBytes } from './lib/proc.js';
import { buildProfileTemplate } from './lib/payload.js';
import { startSenderFleet, type SenderFleet } from './lib/sender-fleet.js';
import { startServer, syslogNgInstalled, type VariantName } from './lib/servers.js';
import { fmt, median, percentile, table } from './lib/stats.js';
import { gitCommit } from './lib/git-commit.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    senders: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '8' },
    rate: { type: 'string', default: '1000' },
    'rate-seconds': { type: 'string', default: '5' },
    'warmup-seconds': { type: 'string', default: '1' },
    size: { type: 'string', default: '10240' },
    variants: { type: 'string', default: 'sink,memory,memory-full,durable,syslog-ng' },
    shapes: { type: 'string', default: 'throughput,rate' },
    'cpu-prof': { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/ingest.json' },
  },
  strict: true,
});

const cfg = {
  messages: Number(args.messages),
  rounds: Number(args.rounds),
  senders: Number(args.senders),
  concurrency: Number(args.concurrency),
  rate: Number(args.rate),
  rateSeconds: Number(args['rate-seconds']),
  warmupSeconds: Number(args['warmup-seconds']),
  size: Number(args.size),
  cpuProf: args['cpu-prof'],
};
type Shape = 'throughput' | 'rate';
const shapes = args.shapes.split(',').filter((s): s is Shape => s === 'throughput' || s === 'rate');
let variants = args.variants.split(',').filter((v): v is VariantName => ['sink', 'memory', 'memory-full', 'durable', 'syslog-ng'].includes(v));
if (!variants.includes('sink')) variants = ['sink', ...variants]; // the baseline is not optional
if (variants.includes('syslog-ng') && !syslogNgInstalled()) {
  console.log('syslog-ng not installed, skipped');
  variants = variants.filter((v) => v !== 'syslog-ng');
}

interface Run {
  variant: VariantName;
  shape: Shape;
  round: number;
  messages: number;
  bytes: number;
  elapsedMs: number;
  clientsDoneMs: number;
  msgsPerSec: number;
  mbPerSec: number;
  latencyUs: { p50: number; p99: number; max: number };
  /** Fixed rate: p99 without each sender's first warmupSeconds (JIT and caches still cold in every process, ours and the senders'). */
  steadyP99Us: number;
  cpuUsPerMsg: number;
  /** CPU of all sender processes per message: on a small machine they share the cores. */
  senderCpuUsPerMsg: number;
  peakRssMb: number;
  retries: number;
  failed: number;
  maxScheduleLagMs: number;
  details: Record<string, unknown>;
}

const profDir = join('bench', 'results', 'profiles');
let runTag = Math.floor(Date.now() / 1000) & 0xffff;

async function runOne(variant: VariantName, shape: Shape, round: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), `bitville-bench-${variant}-`));
  const daemonNodeArgs = cfg.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, 'prof')}`] : [];
  const server = await startServer(variant, { dir, daemonNodeArgs });
  const total = shape === 'throughput' ? cfg.messages : Math.round(cfg.rate * cfg.rateSeconds);
  let senders: SenderFleet | undefined;
  try {
    senders = await startSenderFleet({
      socket: server.socket,
      total,
      processes: cfg.senders,
      concurrency: cfg.concurrency,
      ratePerSec: shape === 'rate' ? cfg.rate : 0,
      sizeBytes: cfg.size,
      runTag: runTag++,
    });
    const cpu0 = cpuMicros(server.pid);
    const t0 = performance.now();
    const sent = await senders.go();
    const tClients = performance.now();
    const failed = sent.reduce((n, r) => n + r.failed, 0);
    await server.waitAccepted(total - failed, 120_000);
    const tAccepted = performance.now();
    const cpu1 = cpuMicros(server.pid);
    const rss = peakRssBytes(server.pid);
    const details = await server.details(total - failed);
    const latencies = new Float64Array(sent.flatMap((r) => r.latenciesUs)).sort();
    const warm = shape === 'rate' ? Math.round((cfg.rate / cfg.senders) * cfg.warmupSeconds) : 0;
    const steady = warm > 0 ? new Float64Array(sent.flatMap((r) => r.latenciesUs.slice(warm))).sort() : latencies;
    const bytes = sent.reduce((n, r) => n + r.bytes, 0);
    const elapsedMs = tAccepted - t0;
    return {
      variant,
      shape,
      round,
      messages: total,
      bytes,
      elapsedMs,
      clientsDoneMs: tClients - t0,
      msgsPerSec: (total / elapsedMs) * 1000,
      mbPerSec: bytes / 1e6 / (elapsedMs / 1000),
      latencyUs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100) },
      steadyP99Us: percentile(steady, 99),
      cpuUsPerMsg: (cpu1 - cpu0) / total,
      senderCpuUsPerMsg: sent.reduce((n, r) => n + r.cpuUs, 0) / total,
      peakRssMb: rss / 1024 / 1024,
      retries: sent.reduce((n, r) => n + r.retries, 0),
      failed,
      maxScheduleLagMs: Math.max(...sent.map((r) => r.maxScheduleLagMs)),
      details,
    };
  } finally {
    await senders?.stop();
    await server.stop();
    if (cfg.cpuProf && (variant === 'memory' || variant === 'durable')) {
      mkdirSync(profDir, { recursive: true });
      try {
        for (const f of readdirSync(join(dir, 'prof'))) renameSync(join(dir, 'prof', f), join(profDir, `${variant}-${shape}-r${round}-${f}`));
      } catch {
        // no profile written (the daemon did not exit normally)
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function orderFor(round: number): VariantName[] {
  return round % 2 === 0 ? [...variants] : [...variants].reverse();
}

const r1 = (n: number) => fmt(n, 1);
const r2 = (n: number) => fmt(n, 2);

interface Summary {
  variant: VariantName;
  shape: Shape;
  msgsPerSec: number;
  mbPerSec: number;
  p50Us: number;
  p99Us: number;
  steadyP99Us: number;
  maxUs: number;
  cpuUsPerMsg: number;
  senderCpuUsPerMsg: number;
  peakRssMb: number;
  vsSink: { msgsPerSec: number; cpuPerMsg: number; p99: number; steadyP99: number; raw: { msgsPerSec: number[]; cpuPerMsg: number[] } };
  vsSyslogNg: { msgsPerSec: number; cpuPerMsg: number } | null;
  raw: { msgsPerSec: number[]; cpuUsPerMsg: number[]; p99Us: number[]; steadyP99Us: number[]; peakRssMb: number[] };
}

function summarise(runs: Run[], shape: Shape): Summary[] {
  const of = (v: VariantName) => runs.filter((r) => r.shape === shape && r.variant === v).sort((a, b) => a.round - b.round);
  const sink = of('sink');
  const sng = of('syslog-ng');
  const ratio = (a: Run[], b: Run[], f: (r: Run) => number) =>
    a.map((r) => {
      const base = b.find((x) => x.round === r.round);
      return base ? f(r) / f(base) : Number.NaN;
    });
  return variants.map((v) => {
    const rs = of(v);
    const thr = ratio(rs, sink, (r) => r.msgsPerSec);
    const cpu = ratio(rs, sink, (r) => r.cpuUsPerMsg);
    return {
      variant: v,
      shape,
      msgsPerSec: median(rs.map((r) => r.msgsPerSec)),
      mbPerSec: median(rs.map((r) => r.mbPerSec)),
      p50Us: median(rs.map((r) => r.latencyUs.p50)),
      p99Us: median(rs.map((r) => r.latencyUs.p99)),
      steadyP99Us: median(rs.map((r) => r.steadyP99Us)),
      maxUs: Math.max(...rs.map((r) => r.latencyUs.max)),
      cpuUsPerMsg: median(rs.map((r) => r.cpuUsPerMsg)),
      senderCpuUsPerMsg: median(rs.map((r) => r.senderCpuUsPerMsg)),
      peakRssMb: Math.max(...rs.map((r) => r.peakRssMb)),
      vsSink: { msgsPerSec: median(thr), cpuPerMsg: median(cpu), p99: median(ratio(rs, sink, (r) => r.latencyUs.p99)), steadyP99: median(ratio(rs, sink, (r) => r.steadyP99Us)), raw: { msgsPerSec: thr, cpuPerMsg: cpu } },
      vsSyslogNg:
        sng.length > 0 && v !== 'syslog-ng'
          ? { msgsPerSec: median(ratio(rs, sng, (r) => r.msgsPerSec)), cpuPerMsg: median(ratio(rs, sng, (r) => r.cpuUsPerMsg)) }
          : null,
      raw: {
        msgsPerSec: rs.map((r) => Math.round(r.msgsPerSec)),
        cpuUsPerMsg: rs.map((r) => Math.round(r.cpuUsPerMsg)),
        p99Us: rs.map((r) => r.latencyUs.p99),
        steadyP99Us: rs.map((r) => r.steadyP99Us),
        peakRssMb: rs.map((r) => Math.round(r.peakRssMb * 10) / 10),
      },
    };
  });
}

function printShape(shape: Shape, s: Summary[]): void {
  const title =
    shape === 'throughput'
      ? `max throughput: ${cfg.messages} messages, ${cfg.senders} senders x ${cfg.concurrency} connections`
      : `fixed rate: ${cfg.rate} msg/s for ${cfg.rateSeconds} s, ${cfg.senders} senders`;
  console.log(`\n== ${title} (median of ${cfg.rounds} rounds; peak RSS and max latency: worst round)`);
  console.log(
    table(
      ['variant', 'msg/s', 'MB/s', 'p50 µs', 'p99 µs', shape === 'rate' ? `p99 after ${cfg.warmupSeconds} s` : 'p99 (same)', 'max µs', 'CPU µs/msg', 'senders µs/msg', 'RSS MB', 'msg/s vs sink', 'CPU vs sink', 'vs syslog-ng msg/s', 'raw msg/s', 'raw CPU µs/msg'],
      s.map((x) => [
        x.variant,
        fmt(x.msgsPerSec),
        r1(x.mbPerSec),
        fmt(x.p50Us),
        fmt(x.p99Us),
        fmt(x.steadyP99Us),
        fmt(x.maxUs),
        r1(x.cpuUsPerMsg),
        r1(x.senderCpuUsPerMsg),
        r1(x.peakRssMb),
        x.variant === 'sink' ? '1.00' : r2(x.vsSink.msgsPerSec),
        x.variant === 'sink' ? '1.00' : r2(x.vsSink.cpuPerMsg),
        x.vsSyslogNg ? r2(x.vsSyslogNg.msgsPerSec) : '',
        x.raw.msgsPerSec.join('/'),
        x.raw.cpuUsPerMsg.join('/'),
      ]),
    ),
  );
}

interface Target {
  name: string;
  pass: boolean;
  measured: string;
}

function targets(thr: Summary[], rate: Summary[]): Target[] {
  const out: Target[] = [];
  const find = (s: Summary[], v: VariantName) => s.find((x) => x.variant === v);
  const mem = find(thr, 'memory');
  const dur = find(thr, 'durable');
  if (mem) out.push({ name: 'memory mode >= 80 % of sink msg/s', pass: mem.vsSink.msgsPerSec >= 0.8, measured: `${fmt(mem.vsSink.msgsPerSec * 100)} %` });
  if (dur) out.push({ name: 'durable mode >= 70 % of sink msg/s', pass: dur.vsSink.msgsPerSec >= 0.7, measured: `${fmt(dur.vsSink.msgsPerSec * 100)} %` });
  for (const x of [mem, dur]) {
    if (x) out.push({ name: `${x.variant}: CPU per message <= 1.5x sink`, pass: x.vsSink.cpuPerMsg <= 1.5, measured: `${r2(x.vsSink.cpuPerMsg)}x (${r1(x.cpuUsPerMsg)} µs)` });
  }
  for (const v of ['memory', 'durable'] as const) {
    const x = find(rate, v);
    const sink = find(rate, 'sink');
    if (x) {
      out.push({
        name: `${v}: client p99 at ${cfg.rate} msg/s <= 1.3x the raw sink's (same run)`,
        pass: x.vsSink.p99 <= 1.3,
        measured: `${fmt(x.p99Us)} µs vs sink ${fmt(sink?.p99Us ?? Number.NaN)} µs = ${r2(x.vsSink.p99)}x (rounds ${x.raw.p99Us.join('/')})`,
      });
      // Reported beside it, never instead: the first second is what a freshly started worker costs.
      out.push({
        name: `${v}: the same without each sender's first ${cfg.warmupSeconds} s (every process warmed up)`,
        pass: x.vsSink.steadyP99 <= 1.3,
        measured: `${fmt(x.steadyP99Us)} µs vs sink ${fmt(sink?.steadyP99Us ?? Number.NaN)} µs = ${r2(x.vsSink.steadyP99)}x (rounds ${x.raw.steadyP99Us.join('/')})`,
      });
    }
  }
  const full = find(thr, 'memory-full');
  if (mem && full) out.push({ name: 'what the full JSON.parse of every message costs (memory-full vs memory, CPU per message)', pass: true, measured: `${r2(full.cpuUsPerMsg / mem.cpuUsPerMsg)}x (${r1(full.cpuUsPerMsg)} vs ${r1(mem.cpuUsPerMsg)} µs)` });
  for (const v of ['memory', 'durable'] as const) {
    const peak = Math.max(...[find(thr, v), find(rate, v)].filter((x): x is Summary => !!x).map((x) => x.peakRssMb));
    if (Number.isFinite(peak)) out.push({ name: `${v}: peak RSS (supervisor + worker, VmHWM) < 100 MB`, pass: peak < 100, measured: `${r1(peak)} MB (bench daemon-cost has PSS too)` });
  }
  return out;
}

/** The commit measured, and whether src/ had uncommitted changes (others may be editing it). */

async function main(): Promise<void> {
  const template = buildProfileTemplate(cfg.size);
  const machine = { commit: gitCommit(), nproc: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadavgAtStart: loadavg().map((x) => Math.round(x * 100) / 100) };
  console.log(
    `ingest bench at ${machine.commit}: ${template.bytes.length + 1}-byte profiles, variants ${variants.join(', ')}; ${machine.nproc} CPUs (${machine.cpu}), node ${machine.node}, load average ${machine.loadavgAtStart.join(' ')}`,
  );
  const runs: Run[] = [];
  for (const shape of shapes) {
    for (let round = 0; round < cfg.rounds; round++) {
      for (const v of orderFor(round)) {
        const r = await runOne(v, shape, round);
        runs.push(r);
        console.log(
          `  ${shape} round ${round + 1}/${cfg.rounds} ${v.padEnd(9)} ${fmt(r.msgsPerSec).padStart(6)} msg/s  p99 ${fmt(r.latencyUs.p99).padStart(6)} µs  CPU ${r1(r.cpuUsPerMsg).padStart(6)} µs/msg  RSS ${r1(r.peakRssMb)} MB  senders ${r1(r.senderCpuUsPerMsg)} µs/msg` +
            (r.retries ? `  retries ${r.retries}` : '') +
            (r.failed ? `  FAILED ${r.failed}` : '') +
            (shape === 'rate' && r.maxScheduleLagMs > 5 ? `  sender lag ${r1(r.maxScheduleLagMs)} ms` : ''),
        );
      }
    }
  }
  const summaries: Record<string, Summary[]> = {};
  for (const shape of shapes) {
    summaries[shape] = summarise(runs, shape);
    printShape(shape, summaries[shape]);
  }
  const t = targets(summaries.throughput ?? [], summaries.rate ?? []);
  console.log('\n== targets (reported, not enforced)');
  for (const x of t) console.log(`  ${x.pass ? 'PASS' : 'FAIL'}  ${x.name}: ${x.measured}`);
  console.log(`  load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (other work on this machine makes absolute numbers noisy; compare the ratios)`);

  const problems = runs.filter((r) => r.failed > 0 || (typeof r.details.rejected === 'number' && r.details.rejected > 0));
  mkdirSync(join(args.out, '..'), { recursive: true });
  writeFileSync(
    args.out,
    JSON.stringify({ benchmark: 'ingest', at: new Date().toISOString(), machine, config: { ...cfg, variants, shapes, messageBytes: template.bytes.length + 1 }, summaries, targets: t, runs }, null, 2) + '\n',
  );
  console.log(`\nwrote ${args.out}`);
  if (problems.length > 0) {
    console.error(`${problems.length} run(s) lost or rejected messages: ${problems.map((r) => `${r.variant}/${r.shape}/r${r.round + 1}`).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
