/**
 * What the PHP client costs a real web server (issue 11 target: default settings <= 3 % of
 * requests/s on a trivial page). Debian's nginx + php-fpm8.2 (opcache on, 2 static workers as
 * www-data, settings through env[...] with clear_env = yes), wrk on a page that only echoes, so
 * the difference is the include's own cost. One fresh nginx + FPM per variant and round, the
 * order alternating across rounds; the report gives median ratios to the baseline (no include)
 * of the same run, and FPM CPU per request read from /proc, which other work on a shared
 * machine disturbs less than requests/s.
 *
 *   npm run bench -- --only php-fpm [--rounds 7] [--seconds 3] [--connections 8]
 *
 * Variants: baseline (no include); client defaults (profiler auto = excimer when installed, on
 * profiler_sample_rate = 10 % of requests); client, profiler none; client with tideways_xhprof on
 * every request (the behaviour before issue 11); client with excimer on every request.
 * Results go to bench/results/php-fpm.json. The target prints PASS/FAIL and never fails the run.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { tempDir } from '../test/helpers/daemon-process.js';
import { fpmMissing, openToWww, startFpmSite } from '../test/helpers/php-fpm.js';
import { cpuMicros } from './lib/proc.js';
import { fmt, median, table } from './lib/stats.js';

const run = promisify(execFile);
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    seconds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '8' },
    variants: { type: 'string', default: '' }, // comma-separated subset (baseline is always run)
    out: { type: 'string', default: 'bench/results/php-fpm.json' },
  },
});
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);

const VARIANTS = {
  baseline: { APP_NO_CLIENT: '1' },
  'client (defaults)': {},
  'client, profiler none': { BITVILLE_APM_PROFILER: '"none"' },
  'client, tideways every request': { BITVILLE_APM_PROFILER: 'tideways', BITVILLE_APM_PROFILER_SAMPLE_RATE: '1' },
  'client, excimer every request': { BITVILLE_APM_PROFILER: 'excimer', BITVILLE_APM_PROFILER_SAMPLE_RATE: '1' },
} as const satisfies Record<string, Record<string, string>>;
type Variant = keyof typeof VARIANTS;

interface Sample {
  rps: number;
  p50Ms: number;
  fpmCpuUsPerRequest: number;
}

async function wrk(url: string, seconds: number): Promise<{ rps: number; requests: number; p50Ms: number }> {
  const { stdout } = await run('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', url]);
  const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? NaN);
  const p50 = /50%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const unit = p50?.[2] === 'us' ? 0.001 : p50?.[2] === 's' ? 1000 : 1;
  return { rps: num(/Requests\/sec:\s+([\d.]+)/), requests: num(/(\d+) requests in/), p50Ms: Number(p50?.[1] ?? NaN) * unit };
}

async function measure(variant: Variant): Promise<Sample> {
  const dir = tempDir('bitville-bench-fpm-');
  openToWww(dir);
  const appData = join(dir, 'app');
  mkdirSync(appData);
  openToWww(appData, true);
  const site = await startFpmSite(dir, {
    env: {
      APP_DB: join(appData, 'app.sqlite'),
      BITVILLE_APM_CONFIG: join(dir, 'none.ini'),
      BITVILLE_APM_DAEMON_SOCKET_PATH: join(dir, 'none.sock'),
      BITVILLE_APM_INBOX_PATH: join(dir, 'inbox'),
      ...VARIANTS[variant],
    },
  });
  try {
    await wrk(`${site.url}/hello`, 1); // warm: opcache, FPM workers
    const cpuBefore = cpuMicros(site.fpmPid);
    const r = await wrk(`${site.url}/hello`, SECONDS);
    const cpu = cpuMicros(site.fpmPid) - cpuBefore;
    return { rps: r.rps, p50Ms: r.p50Ms, fpmCpuUsPerRequest: cpu / r.requests };
  } finally {
    await site.stop();
  }
}

async function main(): Promise<void> {
  const missing = fpmMissing();
  if (missing) {
    console.log(`skipping: ${missing}`);
    return;
  }
  const wanted = args.variants ? args.variants.split(',') : [];
  const variants = (Object.keys(VARIANTS) as Variant[]).filter((v) => v === 'baseline' || wanted.length === 0 || wanted.some((w) => v.includes(w)));
  console.log(`nginx + php-fpm8.2, ${ROUNDS} rounds x ${SECONDS} s of wrk -c${CONNECTIONS} per variant on /hello`);
  const samples = Object.fromEntries(variants.map((v) => [v, [] as Sample[]])) as Record<Variant, Sample[]>;
  const ratios = Object.fromEntries(variants.map((v) => [v, [] as number[]])) as Record<Variant, number[]>;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    const got = {} as Record<Variant, Sample>;
    for (const v of order) got[v] = await measure(v);
    for (const v of variants) {
      samples[v].push(got[v]);
      ratios[v].push(got[v].rps / got.baseline.rps); // within the round: neighbours in time share the machine's load
    }
  }
  const base = (k: keyof Sample) => median(samples.baseline.map((s) => s[k]));
  const rows = variants.map((v) => {
    const cpu = median(samples[v].map((s) => s.fpmCpuUsPerRequest));
    return [
      v,
      fmt(median(samples[v].map((s) => s.rps))),
      `${fmt(median(ratios[v]), 3)}x`,
      fmt(median(samples[v].map((s) => s.p50Ms)), 2),
      fmt(cpu, 1),
      `${fmt(cpu - base('fpmCpuUsPerRequest'), 1)} (${fmt(cpu / base('fpmCpuUsPerRequest'), 3)}x)`,
      ratios[v].map((r) => fmt(r, 2)).join(' '),
    ];
  });
  console.log(table(['variant', 'req/s', 'req/s vs baseline (median of rounds)', 'p50 ms', 'FPM CPU µs/req', 'added µs (ratio)', 'raw ratios per round'], rows));
  const ratio = median(ratios['client (defaults)']);
  console.log(`target default client >= 0.97x baseline requests/s: ${fmt(ratio, 3)}x  ${ratio >= 0.97 ? 'PASS' : 'FAIL'}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    args.out,
    JSON.stringify({ at: new Date().toISOString(), rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, samples, ratios }, null, 2) + '\n',
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
