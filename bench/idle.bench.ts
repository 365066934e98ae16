/**
 * What the daemon costs a web server while nothing happens, beside syslog-ng doing the same job
 * (issue 10: it runs on every web server, busy or not): CPU per second and wake-ups (context
 * switches of all threads) per second of the whole process tree, after it has settled, with no
 * traffic. Fresh processes per round, order alternating.
 *
 *   npm run bench -- --only idle [--seconds 30] [--settle 5] [--rounds 1]
 *     [--variants syslog-ng,memory,durable]
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sleep, stopChild } from './lib/child.js';
import { startBenchDaemon } from './lib/delivery-daemon.js';
import { startHttpSink } from './lib/http-sink-process.js';
import { contextSwitches, cpuMicros, sampleMemory } from './lib/proc.js';
import { startServer, syslogNgInstalled } from './lib/servers.js';
import { fmt, median, table } from './lib/stats.js';
import { gitCommit } from './lib/git-commit.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    settle: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '1' },
    variants: { type: 'string', default: 'syslog-ng,memory,durable' },
    out: { type: 'string', default: 'bench/results/idle.json' },
  },
  strict: true,
});
const cfg = { seconds: Number(args.seconds), settle: Number(args.settle), rounds: Number(args.rounds) };
type Variant = 'syslog-ng' | 'memory' | 'durable';
let variants = args.variants.split(',').filter((v): v is Variant => v === 'syslog-ng' || v === 'memory' || v === 'durable');
if (variants.includes('syslog-ng') && !syslogNgInstalled()) {
  console.log('syslog-ng not installed (apt-get install syslog-ng-core syslog-ng-mod-http): compared against nothing but itself');
  variants = variants.filter((v) => v !== 'syslog-ng');
}

interface Run {
  variant: Variant;
  round: number;
  cpuMsPerSecond: number;
  wakeupsPerSecond: number;
  rssMb: number;
}

/** Settles, then reads CPU and context switches of the tree under `pid` over the window. */
async function measure(variant: Variant, round: number, pid: number): Promise<Run> {
  await sleep(cfg.settle * 1000);
  const memory = sampleMemory(pid, 1_000, 5_000);
  const cpu0 = cpuMicros(pid);
  const cs0 = contextSwitches(pid);
  const t0 = Date.now();
  await sleep(cfg.seconds * 1000);
  const seconds = (Date.now() - t0) / 1000;
  return { variant, round, cpuMsPerSecond: (cpuMicros(pid) - cpu0) / 1000 / seconds, wakeupsPerSecond: (contextSwitches(pid) - cs0) / seconds, rssMb: memory.stop().rssMb };
}

async function runDaemon(mode: 'memory' | 'durable', round: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), `bitville-idle-${mode}-`));
  const sink = await startHttpSink();
  let daemon: Awaited<ReturnType<typeof startBenchDaemon>> | undefined;
  try {
    // The default configuration, forwarding to a listener that is up: what a web server runs.
    daemon = await startBenchDaemon(dir, { buffer: { mode }, forward: { url: sink.url, token: 'bench' } });
    return await measure(mode, round, daemon.pid);
  } finally {
    await daemon?.stop();
    await stopChild(sink.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runSyslogNg(round: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'bitville-idle-sng-'));
  const server = await startServer('syslog-ng', { dir, daemonNodeArgs: [] });
  try {
    return await measure('syslog-ng', round, server.pid);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const machine = { commit: gitCommit(), nproc: cpus().length, node: process.version, loadavgAtStart: loadavg().map((x) => Math.round(x * 100) / 100) };
  console.log(`idle bench at ${machine.commit}: ${cfg.seconds} s after ${cfg.settle} s settling, ${variants.join(', ')}; load ${machine.loadavgAtStart.join(' ')}`);
  const runs: Run[] = [];
  for (let round = 0; round < cfg.rounds; round++) {
    for (const v of round % 2 === 0 ? variants : [...variants].reverse()) {
      const r = v === 'syslog-ng' ? await runSyslogNg(round) : await runDaemon(v, round);
      runs.push(r);
      console.log(`  round ${round + 1} ${v.padEnd(9)} CPU ${fmt(r.cpuMsPerSecond, 2)} ms/s  wake-ups ${fmt(r.wakeupsPerSecond, 1)}/s  RSS ${fmt(r.rssMb, 1)} MB`);
    }
  }
  const of = (v: Variant) => runs.filter((r) => r.variant === v);
  console.log(`\n== idle: median of ${cfg.rounds} round(s), whole process tree (clock ticks are 10 ms: over ${cfg.seconds} s the CPU reads in steps of ${fmt(10 / cfg.seconds, 2)} ms/s)`);
  console.log(
    table(
      ['variant', 'CPU ms/s', '% of a core', 'wake-ups/s', 'RSS MB'],
      variants.map((v) => {
        const rs = of(v);
        const cpu = median(rs.map((r) => r.cpuMsPerSecond));
        return [v, fmt(cpu, 2), fmt(cpu / 10, 2), fmt(median(rs.map((r) => r.wakeupsPerSecond)), 1), fmt(median(rs.map((r) => r.rssMb)), 1)];
      }),
    ),
  );
  mkdirSync(join(args.out, '..'), { recursive: true });
  writeFileSync(args.out, JSON.stringify({ benchmark: 'idle', at: new Date().toISOString(), machine, config: { ...cfg, variants }, runs }, null, 2) + '\n');
  console.log(`\nwrote ${args.out}`);
}

await main();
