/**
 * Delivery benchmark (issue 3): realistic ~10 KB PHP profiles, one connection per message, through
 * the daemon to a minimal local HTTP sink that acknowledges at once, measured end to end:
 *   ingest-only  the daemon with forwarding off (the part-1 ingest rate, same run, same machine)
 *   delivery     the daemon forwarding to the sink: delivered msg/s and MB/s, daemon CPU per message
 *   syslog-ng    unix-stream -> reliable disk-buffer -> http(batch-lines 500), where installed
 *   outage       the sink down for --outage-s while --outage-messages arrive, then back: time from
 *                its return to the first acknowledged batch, and to everything delivered
 *   drain        a --spool-mb spool of segment files written beforehand: time from daemon start
 *                until all of it is delivered, as MB/s
 * "Delivered" is the daemon's own `forward.items_sent` (counted on 2xx), so the sink never has to
 * decompress; for syslog-ng, the http sink counts profiles in the (uncompressed) bodies.
 *
 *   npm run bench -- --only delivery [--messages 20000] [--rounds 2] [--spool-mb 1024]
 *     [--outage-s 5,30] [--outage-messages 2000] [--scenarios ingest-only,delivery,syslog-ng,outage,drain] [--activated]
 *
 * Targets are printed as PASS/FAIL and recorded in bench/results/delivery.json; they never fail
 * the process (only lost messages do).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { AckSinkMessage } from './lib/ack-sink.js';
import { forkModule, nextMessage, sleep, stopChild } from './lib/child.js';
import { startBenchDaemon, type BenchDaemon } from './lib/delivery-daemon.js';
import { buildProfileTemplate, correlationId, messageFor } from './lib/payload.js';
import { cpuMicros, peakRssBytes, sampleMemory, type MemoryPeaks } from './lib/proc.js';
import type { SenderResult } from './lib/sender.js';
import { startSenderFleet } from './lib/sender-fleet.js';
import { startServer, syslogNgInstalled } from './lib/servers.js';
import { fmt, median, table } from './lib/stats.js';
import { gitCommit } from './lib/git-commit.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '2' },
    senders: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '8' },
    size: { type: 'string', default: '10240' },
    'spool-mb': { type: 'string', default: '1024' },
    'outage-s': { type: 'string', default: '5,30' },
    'outage-messages': { type: 'string', default: '2000' },
    scenarios: { type: 'string', default: 'ingest-only,delivery,syslog-ng,outage,drain' },
    /** The drain with the daemon as one socket-activated process (docs/daemon.md). */
    activated: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/delivery.json' },
  },
  strict: true,
});

const cfg = {
  messages: Number(args.messages),
  rounds: Number(args.rounds),
  senders: Number(args.senders),
  concurrency: Number(args.concurrency),
  size: Number(args.size),
  spoolMb: Number(args['spool-mb']),
  outageS: args['outage-s'].split(',').map(Number),
  outageMessages: Number(args['outage-messages']),
};
let scenarios = args.scenarios.split(',');
if (scenarios.includes('syslog-ng') && !syslogNgInstalled()) {
  console.log('syslog-ng not installed, skipped');
  scenarios = scenarios.filter((s) => s !== 'syslog-ng');
}
const TOKEN = 'bench-token';
let runTag = Math.floor(Date.now() / 1000) & 0xffff;

interface Sink {
  child: ChildProcess;
  url: string;
  down(): Promise<void>;
  up(): Promise<number>;
  report(): Promise<Extract<AckSinkMessage, { type: 'report' }>>;
}

async function startSink(): Promise<Sink> {
  const child = forkModule('./ack-sink.js', {});
  const ask = async <K extends AckSinkMessage['type']>(send: object | null, type: K) => {
    const answer = nextMessage<AckSinkMessage>(child, (m) => m.type === type, 10_000, `ack sink ${type}`);
    if (send) child.send(send);
    return (await answer) as Extract<AckSinkMessage, { type: K }>;
  };
  const { port } = await ask(null, 'listening');
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    down: async () => void (await ask({ type: 'down' }, 'isDown')),
    up: async () => (await ask({ type: 'up' }, 'isUp')).at,
    report: () => ask({ type: 'report' }, 'report'),
  };
}

/** Forks the senders and waits until they are ready; `go()` starts them together and stops them once all are done. */
async function send(socket: string, total: number): Promise<{ go(): Promise<SenderResult[]> }> {
  const fleet = await startSenderFleet({ socket, total, processes: cfg.senders, concurrency: cfg.concurrency, ratePerSec: 0, sizeBytes: cfg.size, runTag: runTag++ });
  return { go: () => fleet.go().finally(() => fleet.stop()) };
}

interface Throughput {
  scenario: 'ingest-only' | 'delivery' | 'syslog-ng';
  round: number;
  messages: number;
  bytes: number;
  elapsedMs: number;
  msgsPerSec: number;
  mbPerSec: number;
  cpuUsPerMsg: number;
  peakRssMb: number;
  failed: number;
  details: Record<string, unknown>;
}

const withDir = async <T>(name: string, f: (dir: string) => Promise<T>): Promise<T> => {
  const dir = mkdtempSync(join(tmpdir(), `bitville-bench-${name}-`));
  try {
    return await f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

function throughputOf(scenario: Throughput['scenario'], round: number, sent: SenderResult[], elapsedMs: number, cpuUs: number, pid: number, details: Record<string, unknown>): Throughput {
  const bytes = sent.reduce((n, r) => n + r.bytes, 0);
  return {
    scenario,
    round,
    messages: cfg.messages,
    bytes,
    elapsedMs,
    msgsPerSec: (cfg.messages / elapsedMs) * 1000,
    mbPerSec: bytes / 1e6 / (elapsedMs / 1000),
    cpuUsPerMsg: cpuUs / cfg.messages,
    peakRssMb: peakRssBytes(pid) / 1024 / 1024,
    failed: sent.reduce((n, r) => n + r.failed, 0),
    details,
  };
}

/** The daemon with forwarding off (accepted = done) or on (delivered = done), default config otherwise. */
async function runDaemon(scenario: 'ingest-only' | 'delivery', round: number): Promise<Throughput> {
  return withDir(scenario, async (dir) => {
    const sink = scenario === 'delivery' ? await startSink() : null;
    const daemon = await startBenchDaemon(dir, { forward: sink ? { url: sink.url, token: TOKEN } : { url: null } });
    try {
      const senders = await send(daemon.socket, cfg.messages);
      const cpu0 = cpuMicros(daemon.pid);
      const t0 = performance.now();
      // Poll while the senders run, so the 10 % mark is seen when it happens.
      let failed = 0;
      const going = senders.go().then((sent) => {
        failed = sent.reduce((n, r) => n + r.failed, 0);
        return sent;
      });
      // Steady state: the rate between 10 % and 90 % done, free of start-up and of the last
      // partial batch, which waits flushIntervalMs (1 s by default) by design.
      let at10: { t: number; done: number } | null = null;
      let at90: { t: number; done: number } | null = null;
      const h = await daemon.until(
        (x) => {
          const done = sink ? (x.stats.forward.items_sent ?? 0) : x.stats.ingest.accepted;
          if (done >= 0.1 * cfg.messages) at10 ??= { t: performance.now(), done };
          if (done >= 0.9 * cfg.messages) at90 ??= { t: performance.now(), done };
          return done >= cfg.messages - failed;
        },
        300_000,
        scenario === 'delivery' ? 'all delivered' : 'all accepted',
        10,
      );
      const elapsedMs = performance.now() - t0;
      const sent = await going;
      const a = at10 as { t: number; done: number } | null; // assigned inside the callback, which TypeScript cannot see
      const b = at90 as { t: number; done: number } | null;
      const steady = a && b && b.done > a.done ? ((b.done - a.done) * 1000) / (b.t - a.t) : Number.NaN;
      const cpuUs = cpuMicros(daemon.pid) - cpu0;
      const details: Record<string, unknown> = { steadyMsgsPerSec: Math.round(steady), clientsDoneMs: Math.round(Math.max(...sent.map((r) => r.elapsedMs))), forward: h.stats.forward, dropped: h.stats.dropped };
      if (sink) details.sink = await sink.report();
      return throughputOf(scenario, round, sent, elapsedMs, cpuUs, daemon.pid, details);
    } finally {
      await daemon.stop();
      if (sink) await stopChild(sink.child);
    }
  });
}

async function runSyslogNg(round: number): Promise<Throughput> {
  return withDir('syslog-ng', async (dir) => {
    const server = await startServer('syslog-ng', { dir, daemonNodeArgs: [] });
    try {
      const senders = await send(server.socket, cfg.messages);
      const cpu0 = cpuMicros(server.pid);
      const t0 = performance.now();
      const sent = await senders.go();
      const failed = sent.reduce((n, r) => n + r.failed, 0);
      await server.waitAccepted(cfg.messages - failed, 300_000);
      const details = await server.details(cfg.messages - failed); // returns once the http sink has them all
      const elapsedMs = performance.now() - t0;
      const cpuUs = cpuMicros(server.pid) - cpu0;
      if (details.deliveryError) throw new Error(`syslog-ng did not deliver: ${String(details.deliveryError)}`);
      return throughputOf('syslog-ng', round, sent, elapsedMs, cpuUs, server.pid, details);
    } finally {
      await server.stop();
    }
  });
}

interface Outage {
  messages: number;
  outageMs: number;
  firstDeliveryAfterReturnMs: number;
  allDeliveredAfterReturnMs: number;
  failuresByKind: Record<string, number>;
  /** At least circuitBreaker.failureThreshold failures: the breaker opened during the outage. */
  circuitOpened: boolean;
}

/** Default forward and breaker config: what an operator gets after a real outage. */
async function runOutage(outageS: number): Promise<Outage> {
  return withDir('outage', async (dir) => {
    const sink = await startSink();
    await sink.down();
    const downAt = Date.now();
    const daemon = await startBenchDaemon(dir, { forward: { url: sink.url, token: TOKEN } });
    try {
      const total = cfg.outageMessages;
      const sent = await (await send(daemon.socket, total)).go();
      const failed = sent.reduce((n, r) => n + r.failed, 0);
      await daemon.until((h) => h.stats.ingest.accepted >= total - failed, 60_000, 'all accepted during the outage');
      await sleep(Math.max(0, downAt + outageS * 1000 - Date.now()));
      const upAt = await sink.up();
      const h = await daemon.until((x) => (x.stats.forward.items_sent ?? 0) >= total - failed, 300_000, 'all delivered after the outage', 10);
      const allAt = Date.now();
      const r = await sink.report();
      return {
        messages: total,
        outageMs: upAt - downAt,
        firstDeliveryAfterReturnMs: (r.firstAckAfterUpAt ?? Number.NaN) - upAt,
        allDeliveredAfterReturnMs: allAt - upAt,
        failuresByKind: Object.fromEntries(Object.entries(h.stats.forward.failures_by_kind ?? {}).filter(([, n]) => n > 0)),
        circuitOpened: (h.stats.forward.failures_by_kind?.connect ?? 0) >= 5,
      };
    } finally {
      await daemon.stop();
      await stopChild(sink.child);
    }
  });
}

interface Drain {
  spoolBytes: number;
  segments: number;
  messages: number;
  readyMs: number;
  elapsedMs: number;
  mbPerSec: number;
  mbPerSecAfterReady: number;
  cpuUsPerMsg: number;
  peakRssMb: number;
  memory: MemoryPeaks;
}

/** Writes `<dataDir>/buffer` segments in the spool format, 100 messages (~1 MB) each like a memory overflow. */
function buildSpool(dataDir: string, targetBytes: number): { bytes: number; segments: number; messages: number } {
  const spool = join(dataDir, 'buffer');
  mkdirSync(spool, { recursive: true });
  const t = buildProfileTemplate(cfg.size);
  const tag = runTag++;
  const start = Date.now() - 3_600_000; // an hour-old backlog
  let bytes = 0;
  let messages = 0;
  let segments = 0;
  while (bytes < targetBytes) {
    const lines = Array.from({ length: 100 }, (_, i) => messageFor(t, correlationId(tag, 0, messages + i)));
    const body = Buffer.concat(lines);
    const name = `${String(start + segments).padStart(13, '0')}-${String(segments % 1_000_000).padStart(6, '0')}-1.ndjson`;
    writeFileSync(join(spool, name), body);
    bytes += body.length;
    messages += lines.length;
    segments++;
  }
  return { bytes, segments, messages };
}

async function runDrain(): Promise<Drain> {
  return withDir('drain', async (dir) => {
    const built = buildSpool(join(dir, 'data'), cfg.spoolMb * 1024 * 1024);
    spawnSync('sync');
    const sink = await startSink();
    let daemon: BenchDaemon | null = null;
    try {
      const t0 = performance.now();
      daemon = await startBenchDaemon(
        dir,
        {
          forward: { url: sink.url, token: TOKEN },
          spool: { maxBytes: built.bytes * 2, minFreeBytes: 0 }, // the quota must not drop the backlog being measured
        },
        [],
        args.activated,
      );
      const tReady = performance.now();
      const memory = sampleMemory(daemon.pid);
      const cpu0 = cpuMicros(daemon.pid); // startup replay before this point is in readyMs, not in CPU
      await daemon.until((h) => (h.stats.forward.items_sent ?? 0) >= built.messages, 600_000, 'spool drained', 20);
      const t1 = performance.now();
      const cpuUs = cpuMicros(daemon.pid) - cpu0;
      return {
        spoolBytes: built.bytes,
        segments: built.segments,
        messages: built.messages,
        readyMs: Math.round(tReady - t0),
        elapsedMs: t1 - t0,
        mbPerSec: built.bytes / 1e6 / ((t1 - t0) / 1000),
        mbPerSecAfterReady: built.bytes / 1e6 / ((t1 - tReady) / 1000),
        cpuUsPerMsg: cpuUs / built.messages,
        peakRssMb: peakRssBytes(daemon.pid) / 1024 / 1024,
        memory: memory.stop(),
      };
    } finally {
      await daemon?.stop();
      await stopChild(sink.child);
    }
  });
}


/** The part-1 ingest bench's memory-mode throughput, if it has been run here. */
function recordedIngestRate(): number | null {
  const path = 'bench/results/ingest.json';
  if (!existsSync(path)) return null;
  const j = JSON.parse(readFileSync(path, 'utf8')) as { summaries?: { throughput?: { variant: string; msgsPerSec: number }[] } };
  return j.summaries?.throughput?.find((s) => s.variant === 'memory')?.msgsPerSec ?? null;
}

interface Target {
  name: string;
  pass: boolean;
  measured: string;
}

async function main(): Promise<void> {
  const machine = { commit: gitCommit(), nproc: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadavgAtStart: loadavg().map((x) => Math.round(x * 100) / 100) };
  console.log(`delivery bench at ${machine.commit}: ${cfg.size}-byte profiles, scenarios ${scenarios.join(', ')}; ${machine.nproc} CPUs (${machine.cpu}), node ${machine.node}, load average ${machine.loadavgAtStart.join(' ')}`);
  const runs: Throughput[] = [];
  const order = (['ingest-only', 'delivery', 'syslog-ng'] as const).filter((s) => scenarios.includes(s));
  for (let round = 0; round < cfg.rounds; round++) {
    for (const s of round % 2 === 0 ? order : [...order].reverse()) {
      const r = s === 'syslog-ng' ? await runSyslogNg(round) : await runDaemon(s, round);
      runs.push(r);
      console.log(`  round ${round + 1}/${cfg.rounds} ${s.padEnd(11)} ${fmt(r.msgsPerSec).padStart(6)} msg/s (10-90 %: ${fmt(Number(r.details.steadyMsgsPerSec))})  ${fmt(r.mbPerSec, 1).padStart(6)} MB/s  CPU ${fmt(r.cpuUsPerMsg, 1).padStart(6)} µs/msg  RSS ${fmt(r.peakRssMb, 1)} MB${r.failed ? `  FAILED ${r.failed}` : ''}`);
    }
  }
  const summary = order.map((s) => {
    const rs = runs.filter((r) => r.scenario === s);
    return { scenario: s, steadyMsgsPerSec: median(rs.map((r) => Number(r.details.steadyMsgsPerSec))), msgsPerSec: median(rs.map((r) => r.msgsPerSec)), mbPerSec: median(rs.map((r) => r.mbPerSec)), cpuUsPerMsg: median(rs.map((r) => r.cpuUsPerMsg)), peakRssMb: Math.max(...rs.map((r) => r.peakRssMb)), raw: rs.map((r) => Math.round(r.msgsPerSec)) };
  });
  if (summary.length > 0) {
    console.log(`\n== ${cfg.messages} messages, ${cfg.senders} senders x ${cfg.concurrency} connections, median of ${cfg.rounds} rounds (done = delivered to the sink; ingest-only: accepted)`);
    console.log(table(['scenario', 'msg/s (all done)', 'msg/s (10-90 %)', 'MB/s', 'CPU µs/msg', 'RSS MB', 'raw msg/s'], summary.map((x) => [x.scenario, fmt(x.msgsPerSec), fmt(x.steadyMsgsPerSec), fmt(x.mbPerSec, 1), fmt(x.cpuUsPerMsg, 1), fmt(x.peakRssMb, 1), x.raw.join('/')])));
  }
  const outages: Outage[] = [];
  if (scenarios.includes('outage')) {
    for (const seconds of cfg.outageS) {
      const o = await runOutage(seconds);
      outages.push(o);
      console.log(`\n== outage: ${o.messages} messages during ${fmt(o.outageMs)} ms down (circuit ${o.circuitOpened ? 'opened' : 'stayed closed'}); first delivery ${fmt(o.firstDeliveryAfterReturnMs)} ms after the sink returned, all ${fmt(o.allDeliveredAfterReturnMs)} ms after; failures ${JSON.stringify(o.failuresByKind)}`);
    }
  }
  let drain: Drain | null = null;
  if (scenarios.includes('drain')) {
    drain = await runDrain();
    console.log(`\n== drain: ${fmt(drain.spoolBytes / 1024 / 1024)} MiB spool (${drain.segments} segments, ${drain.messages} messages): ${fmt(drain.elapsedMs)} ms from start (ready after ${drain.readyMs} ms) = ${fmt(drain.mbPerSec, 1)} MB/s (${fmt(drain.mbPerSecAfterReady, 1)} MB/s after ready); CPU ${fmt(drain.cpuUsPerMsg, 1)} µs/msg, peak RSS ${fmt(drain.memory.rssMb, 1)} MB / PSS ${fmt(drain.memory.pssMb, 1)} MB (supervisor ${fmt(drain.memory.rootRssMb, 1)} / ${fmt(drain.memory.rootPssMb, 1)} MB)`);
  }

  const find = (s: string) => summary.find((x) => x.scenario === s);
  const del = find('delivery');
  const ing = find('ingest-only');
  const sng = find('syslog-ng');
  const t: Target[] = [];
  if (del && ing) {
    t.push({ name: 'sustained delivery (10-90 %) >= 80 % of the ingest rate (ingest-only, same run)', pass: del.steadyMsgsPerSec >= 0.8 * ing.steadyMsgsPerSec, measured: `${fmt((del.steadyMsgsPerSec / ing.steadyMsgsPerSec) * 100)} % (${fmt(del.steadyMsgsPerSec)} vs ${fmt(ing.steadyMsgsPerSec)} msg/s)` });
    t.push({ name: 'first to last delivered >= 80 % of first to last accepted (incl. the 1 s flush of the tail)', pass: del.msgsPerSec >= 0.8 * ing.msgsPerSec, measured: `${fmt((del.msgsPerSec / ing.msgsPerSec) * 100)} % (${fmt(del.msgsPerSec)} vs ${fmt(ing.msgsPerSec)} msg/s)` });
  }
  const recorded = recordedIngestRate();
  if (del && recorded) t.push({ name: 'sustained delivery (10-90 %) >= 80 % of bench/results/ingest.json memory msg/s', pass: del.steadyMsgsPerSec >= 0.8 * recorded, measured: `${fmt((del.steadyMsgsPerSec / recorded) * 100)} % (${fmt(del.steadyMsgsPerSec)} vs ${fmt(recorded)} msg/s)` });
  if (del && sng) {
    t.push({ name: 'delivered msg/s >= syslog-ng delivered msg/s', pass: del.msgsPerSec >= sng.msgsPerSec, measured: `${fmt(del.msgsPerSec)} vs ${fmt(sng.msgsPerSec)} msg/s` });
    t.push({ name: 'daemon CPU per delivered message <= syslog-ng', pass: del.cpuUsPerMsg <= sng.cpuUsPerMsg, measured: `${fmt(del.cpuUsPerMsg, 1)} vs ${fmt(sng.cpuUsPerMsg, 1)} µs` });
  }
  for (const o of outages) t.push({ name: `first batch within 1 s of the listener returning (circuit ${o.circuitOpened ? 'opened' : 'closed'})`, pass: o.firstDeliveryAfterReturnMs <= 1_000, measured: `${fmt(o.firstDeliveryAfterReturnMs)} ms after a ${fmt(o.outageMs / 1000, 1)} s outage` });
  if (drain) t.push({ name: 'backlog drain >= 100 MB/s', pass: drain.mbPerSec >= 100, measured: `${fmt(drain.mbPerSec, 1)} MB/s over ${fmt(drain.spoolBytes / 1024 / 1024)} MiB (from daemon start)` });
  console.log('\n== targets (reported, not enforced)');
  for (const x of t) console.log(`  ${x.pass ? 'PASS' : 'FAIL'}  ${x.name}: ${x.measured}`);
  console.log(`  load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (a shared machine makes absolute numbers noisy)`);

  mkdirSync(join(args.out, '..'), { recursive: true });
  writeFileSync(args.out, JSON.stringify({ benchmark: 'delivery', at: new Date().toISOString(), machine, config: { ...cfg, scenarios }, summary, outages, drain, targets: t, runs }, null, 2) + '\n');
  console.log(`\nwrote ${args.out}`);
  const lost = runs.filter((r) => r.failed > 0);
  if (lost.length > 0) {
    console.error(`${lost.length} run(s) had failed sends`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
