/**
 * PHP client overhead with a real PHP server (issue 5 targets):
 *
 *   1. fast request (below the threshold): time the include adds per request, against the same
 *      app without it, target < 50 µs. `php -S` with opcache on (as under FPM), one fresh server
 *      per variant and round, the order alternating across rounds; a trivial page so the
 *      difference is the include's own cost. Variants: no client (baseline), client with the
 *      profiler off, client with the default `profiler = auto` (tideways_xhprof when installed).
 *   2. slow request: building, encoding and sending a ~20 KB profile (what runs after
 *      fastcgi_finish_request), target < 1 ms; to a real daemon socket, and to the inbox when the
 *      daemon is down. Timed inside PHP (test/php-app/bench-send.php).
 *
 *   npm run bench -- --only php-client [--requests 800] [--rounds 5] [--sends 300]
 *
 * Results go to bench/results/php-client.json. Targets print PASS/FAIL and never fail the run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnDaemon, tempDir } from '../test/helpers/daemon-process.js';
import { freePort } from '../test/helpers/listener-process.js';
import { fmt, median, percentile, table } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '800' },
    rounds: { type: 'string', default: '5' },
    sends: { type: 'string', default: '300' },
    out: { type: 'string', default: 'bench/results/php-client.json' },
  },
});
const REQUESTS = Number(args.requests);
const ROUNDS = Number(args.rounds);
const SENDS = Number(args.sends);
const REPO = new URL('../../', import.meta.url).pathname; // dist/bench -> repo
const APP = join(REPO, 'test', 'php-app', 'index.php');

type Variant = 'baseline' | 'client' | 'client+profiler';
const VARIANT_ENV: Record<Variant, Record<string, string>> = {
  baseline: { APP_NO_CLIENT: '1' },
  client: { BITVILLE_APM_PROFILER: 'none' },
  'client+profiler': { BITVILLE_APM_PROFILER: 'auto' },
};

function once(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(Number(process.hrtime.bigint() - t) / 1000));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Per-request µs for one variant in a fresh `php -S`. */
async function measureVariant(variant: Variant, dir: string): Promise<number[]> {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    APP_DB: join(dir, 'app.sqlite'),
    BITVILLE_APM_CONFIG: join(dir, 'none.ini'),
    BITVILLE_APM_DAEMON_SOCKET_PATH: join(dir, 'none.sock'),
    BITVILLE_APM_INBOX_PATH: join(dir, 'inbox'),
    ...VARIANT_ENV[variant],
  };
  const php = spawn('php', ['-d', 'opcache.enable_cli=1', '-S', `127.0.0.1:${port}`, APP], { env, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/hello`;
  try {
    for (let i = 0; ; i++) {
      try {
        await once(url);
        break;
      } catch {
        if (i > 200) throw new Error('php -S did not start');
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    for (let i = 0; i < 100; i++) await once(url); // warm: opcache, page cache
    const us: number[] = [];
    for (let i = 0; i < REQUESTS; i++) us.push(await once(url));
    return us;
  } finally {
    php.kill('SIGKILL');
  }
}

function phpSend(env: Record<string, string>): { bytes: number; outcome: string; us: number[] } {
  const r = spawnSync('php', ['-d', 'opcache.enable_cli=1', join(REPO, 'test', 'php-app', 'bench-send.php'), String(SENDS)], {
    env: { PATH: process.env.PATH, BITVILLE_APM_CONFIG: '/nonexistent.ini', BITVILLE_APM_PROFILER: 'none', ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`bench-send.php failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { bytes: number; outcome: string; us: number[] };
  return { ...out, us: out.us.slice(10) }; // the first sends load classes and connect cold
}

async function main(): Promise<void> {
  const php = spawnSync('php', ['-r', 'echo PHP_VERSION, " ", extension_loaded("tideways_xhprof") ? "tideways_xhprof" : (extension_loaded("excimer") ? "excimer" : "no profiler");'], { encoding: 'utf8' });
  if (php.status !== 0) {
    console.log('php is not installed; skipping (bash .ci/run installs it)');
    return;
  }
  const dir = tempDir('bitville-bench-php-');
  console.log(`PHP ${php.stdout}; ${REQUESTS} requests x ${ROUNDS} rounds per variant; php -S with opcache`);

  // 1. fast requests
  const variants: Variant[] = ['baseline', 'client', 'client+profiler'];
  const perRound: Record<Variant, number[]> = { baseline: [], client: [], 'client+profiler': [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) perRound[v].push(median(await measureVariant(v, dir)));
  }
  const base = median(perRound.baseline);
  const rows = variants.map((v) => {
    const m = median(perRound[v]);
    return [v, fmt(m, 1), fmt(m - base, 1), `${fmt(m / base, 3)}x`, perRound[v].map((x) => fmt(x, 0)).join(' ')];
  });
  console.log('\nfast request (below threshold), median per-request latency over HTTP');
  console.log(table(['variant', 'median µs', 'added µs', 'ratio', 'raw rounds (median µs)'], rows));
  const added = median(perRound.client) - base;
  const addedProfiler = median(perRound['client+profiler']) - base;
  console.log(`target fast request added < 50 µs (profiler off): ${fmt(added, 1)} µs  ${added < 50 ? 'PASS' : 'FAIL'}`);

  // 2. the send of a slow request's profile
  const daemonDir = tempDir('bitville-bench-php-daemon-');
  const daemon = await spawnDaemon(daemonDir, {});
  let socket: ReturnType<typeof phpSend>;
  try {
    socket = phpSend({ BITVILLE_APM_DAEMON_SOCKET_PATH: daemon.socketPath, BITVILLE_APM_INBOX_PATH: join(dir, 'unused') });
  } finally {
    daemon.kill('SIGTERM');
    await daemon.exited;
  }
  mkdirSync(join(dir, 'inbox-down'), { recursive: true });
  const inbox = phpSend({ BITVILLE_APM_DAEMON_SOCKET_PATH: join(dir, 'down.sock'), BITVILLE_APM_INBOX_PATH: join(dir, 'inbox-down') });
  const describe = (name: string, s: typeof socket) => {
    const sorted = [...s.us].sort((a, b) => a - b);
    return [name, s.outcome, fmt(s.bytes), fmt(median(s.us), 0), fmt(percentile(sorted, 95), 0), fmt(percentile(sorted, 99), 0)];
  };
  console.log(`\nslow request: build + encode + send one profile (${SENDS - 10} sends), µs`);
  console.log(table(['path', 'outcome', 'bytes', 'p50', 'p95', 'p99'], [describe('daemon socket', socket), describe('daemon down: inbox', inbox)]));
  const sendP50 = median(socket.us);
  console.log(`target send of a ~20 KB profile < 1 ms: p50 ${fmt(sendP50, 0)} µs  ${sendP50 < 1000 ? 'PASS' : 'FAIL'}`);

  writeFileSync(
    args.out,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        php: php.stdout,
        fast: { requests: REQUESTS, rounds: ROUNDS, median_us: Object.fromEntries(variants.map((v) => [v, median(perRound[v])])), raw_rounds_us: perRound, added_us: added, added_with_profiler_us: addedProfiler },
        send: { bytes: socket.bytes, socket_p50_us: sendP50, socket_outcome: socket.outcome, inbox_p50_us: median(inbox.us), inbox_outcome: inbox.outcome },
      },
      null,
      2,
    ) + '\n',
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
