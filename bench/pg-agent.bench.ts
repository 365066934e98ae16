/**
 * Postgres agent cost (issue 13), against a private PostgreSQL with 100 busy client sessions:
 *
 *   1. CPU per activity sample in the agent process: our collector (the pg_stat_activity query
 *      with pg_blocking_pids, correlation ids, counts) plus serialising the record, against the
 *      floor: the bare `SELECT * FROM pg_stat_activity` through the same driver. Both in this
 *      process, alternating rounds; the report is the median ratio.
 *   2. The real agent (`bitville-apm pg-agent`, default intervals except activity/locks every
 *      second) for `--seconds`: its database time per second, from pg_stat_statements for its own
 *      role, against safety.maxDbTimePerSecondMs (20), its process CPU per second and peak RSS.
 *
 *   npm run bench -- --only pg-agent [--samples 200] [--rounds 5] [--seconds 20]
 *
 * Results go to bench/results/pg-agent.json. The machine is shared: compare ratios within one run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { collectActivity } from '../src/pg-agent/collectors/activity-collector.js';
import { createMonitorConnection } from '../src/pg-agent/db/monitor-connection.js';
import { createRecordFactory } from '../src/pg-agent/agent-record.js';
import { createLogger } from '../src/shared/telemetry/logger.js';
import { startPrivatePostgres } from '../test/helpers/private-postgres.js';
import { fmt, median, table } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    samples: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '20' },
    sessions: { type: 'string', default: '100' },
    out: { type: 'string', default: 'bench/results/pg-agent.json' },
  },
});
const SAMPLES = Number(args.samples);
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const SESSIONS = Number(args.sessions);
const PG_BIN = process.env.BITVILLE_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const CLI = new URL('../src/cli/main.js', import.meta.url).pathname; // dist/bench -> dist/src/cli

const cpuUs = (u: NodeJS.CpuUsage) => u.user + u.system;

async function main(): Promise<void> {
  const pgs = startPrivatePostgres();
  const dir = mkdtempSync(join(tmpdir(), 'bitville-pgbench-'));
  let load: ChildProcess | null = null;
  try {
    await pgs.sql('CREATE EXTENSION pg_stat_statements');
    await pgs.sql('CREATE ROLE bitville_monitor LOGIN IN ROLE pg_monitor');
    await pgs.sql('CREATE TABLE hot (id int PRIMARY KEY, n int NOT NULL); INSERT INTO hot SELECT g, 0 FROM generate_series(1, 1000) g');
    // The busy sessions come from pgbench, another process, so this process's CPU is the agent code's alone.
    // Busy but light on the shared CPUs: short updates on a hot table between sleeps.
    const script = join(dir, 'busy.sql');
    writeFileSync(script, "\\set id random(1, 10)\nUPDATE hot SET n = n + 1 WHERE id = :id;\nSELECT pg_sleep(0.05);\n");
    load = spawn(join(PG_BIN, 'pgbench'), ['-n', '-c', String(SESSIONS), '-j', '2', '-T', '3600', '-f', script, '-h', pgs.socketDir, '-U', 'root', 'postgres'], { stdio: 'ignore' });
    const waitUntil = Date.now() + 30_000;
    while (Number((await pgs.sql("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'pgbench'")).rows[0].n) < SESSIONS) {
      if (Date.now() > waitUntil) throw new Error('pgbench did not open its sessions');
      await new Promise((r) => setTimeout(r, 100));
    }

    // 1. CPU per sample: collector + record vs the bare query.
    const log = createLogger({ level: 'silent', format: 'json' });
    const db = createMonitorConnection({ url: pgs.url(), statementTimeoutMs: 500, lockTimeoutMs: 100, maxReconnectDelayMs: 1000, log });
    db.start();
    while (db.state() !== 'up') await new Promise((r) => setTimeout(r, 20));
    const record = createRecordFactory('bench');
    const variants = {
      baseline: async () => {
        const r = await db.query('bare', 'SELECT * FROM pg_stat_activity');
        if (r.kind !== 'ok') throw new Error('bare query failed');
        return r.ms;
      },
      candidate: async () => {
        const r = await collectActivity(db);
        if (r.kind !== 'ok') throw new Error('activity failed');
        JSON.stringify(record('pg_stat_activity', { ...r.value }));
        return r.ms;
      },
    };
    const perRound: { variant: string; cpu_us: number; db_ms: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['baseline', 'candidate'] as const) : (['candidate', 'baseline'] as const);
      for (const v of order) {
        for (let i = 0; i < 20; i++) await variants[v](); // warm up
        let dbMs = 0;
        const c0 = process.cpuUsage();
        for (let i = 0; i < SAMPLES; i++) dbMs += await variants[v]();
        perRound.push({ variant: v, cpu_us: cpuUs(process.cpuUsage(c0)) / SAMPLES, db_ms: dbMs / SAMPLES });
      }
    }
    await db.stop();
    const med = (v: string, k: 'cpu_us' | 'db_ms') => median(perRound.filter((r) => r.variant === v).map((r) => r[k]));
    const ratios = Array.from({ length: ROUNDS }, (_, i) => (perRound.filter((r) => r.variant === 'candidate')[i]?.cpu_us ?? NaN) / (perRound.filter((r) => r.variant === 'baseline')[i]?.cpu_us ?? NaN));
    console.log(`\n${SESSIONS} busy sessions; ${SAMPLES} samples x ${ROUNDS} rounds per variant (alternating)`);
    console.log(table(['variant', 'CPU µs/sample (median)', 'query ms/sample (median)'], [
      ['bare SELECT * FROM pg_stat_activity', fmt(med('baseline', 'cpu_us')), fmt(med('baseline', 'db_ms'), 2)],
      ['activity collector + record', fmt(med('candidate', 'cpu_us')), fmt(med('candidate', 'db_ms'), 2)],
    ]));
    console.log(`candidate/baseline CPU = ${fmt(median(ratios), 2)}x (${ROUNDS} rounds; raw: ${ratios.map((r) => fmt(r, 2)).join(', ')})`);

    // 2. The real agent process.
    const sockDir = join(dir, 'sink');
    mkdirSync(sockDir);
    const { createServer } = await import('node:net');
    let records = 0;
    const sink = createServer((s) => s.on('data', (c: Buffer) => (records += c.toString().split('\n').length - 1)));
    await new Promise<void>((resolve) => sink.listen(join(sockDir, 'daemon.sock'), resolve));
    const file = join(dir, 'pg-agent.yaml');
    writeFileSync(file, stringify({ database: pgs.url().replace('root@', 'bitville_monitor@'), project: 'bench', health: '127.0.0.1:0', send: { socket: join(sockDir, 'daemon.sock') }, intervals: { activityMs: 1000, locksMs: 1000, statementsMs: 10_000, systemMs: 10_000 }, logs: { path: pgs.logDir }, log: { level: 'warn' } }));
    const agentTime = async () => Number((await pgs.sql("SELECT coalesce(sum(total_exec_time), 0) AS ms, coalesce(sum(calls), 0) AS calls FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid WHERE r.rolname = 'bitville_monitor'")).rows[0].ms);
    const proc = spawn(process.execPath, [CLI, 'pg-agent', '--config', file], { stdio: ['ignore', 'ignore', 'inherit'] });
    const ticks = () => {
      const f = readFileSync(`/proc/${proc.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks (USER_HZ = 100)
    };
    await new Promise((r) => setTimeout(r, 3000)); // start-up and the first samples are not steady state
    const t0 = Date.now();
    const db0 = await agentTime();
    const cpu0 = ticks();
    const rec0 = records;
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const elapsed = (Date.now() - t0) / 1000;
    const dbPerS = ((await agentTime()) - db0) / elapsed;
    const cpuPerS = (ticks() - cpu0) / elapsed;
    const rssKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1] ?? NaN);
    const sent = records - rec0;
    proc.kill('SIGTERM');
    await new Promise((r) => proc.on('exit', r));
    sink.close();
    console.log(`\nbitville-apm pg-agent for ${fmt(elapsed, 1)} s (activity + locks every 1 s, statements + system every 10 s, log tailing)`);
    console.log(table(['measure', 'value'], [
      ['database time (pg_stat_statements, own role)', `${fmt(dbPerS, 2)} ms/s (budget 20 ms/s: ${dbPerS <= 20 ? 'PASS' : 'FAIL'})`],
      ['agent process CPU (one activity + one locks tick per second)', `${fmt(cpuPerS * 1000, 1)} ms/s`],
      ['records sent', fmt(sent)],
      ['agent peak RSS', `${fmt(rssKb / 1024, 1)} MB`],
    ]));
    const result = { sessions: SESSIONS, samples: SAMPLES, rounds: perRound, cpu_ratio_median: median(ratios), agent: { seconds: elapsed, db_ms_per_s: dbPerS, cpu_ms_per_s: cpuPerS * 1000, records: sent, peak_rss_mb: rssKb / 1024 } };
    mkdirSync(join(args.out, '..'), { recursive: true });
    writeFileSync(args.out, JSON.stringify(result, null, 2));
  } finally {
    load?.kill('SIGKILL');
    pgs.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
