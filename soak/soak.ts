/**
 * `npm run soak [-- --minutes 10 --seed 1 --out result.json]`: a fault-injection run over real
 * processes (issue 9). A listener (SQLite) behind a counting proxy, a durable-mode daemon on a
 * small tmpfs, PHP-shaped clients that use the acknowledged send with the PHP client's 50 ms
 * budget and inbox fallback (plus the real PHP client's send code when `php` is installed), and
 * hostile clients beside them. Faults, in a seeded shuffled order: daemon SIGTERM, SIGKILL and
 * SIGHUP, worker SIGKILL, listener SIGKILL, a full disk. At the end it drains everything and
 * checks the invariant: every profile a client saw acknowledged, or handed to its inbox, is
 * stored by the listener exactly once; every other one was counted as dropped with a reason.
 * Exits 1 when anything was lost or a drop counter lied. Figures: docs/reliability.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLedger, verdict } from './lib/ledger.js';
import { faultSchedule, fillDisk, type FaultKind } from './lib/faults.js';
import { startCountingProxy } from './lib/counting-proxy.js';
import { startGoodClients, startPhpClient, type ClientTargets } from './lib/good-clients.js';
import { startHostileClients } from './lib/hostile-clients.js';
import { daemonReadyFile, startRole, writeYaml, type Proc } from './lib/processes.js';

interface Args {
  minutes: number;
  seed: number;
  out: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { minutes: 10, seed: 1, out: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, v] = [argv[i], argv[i + 1]];
    if (flag === '--minutes' && v) a.minutes = Number(v);
    else if (flag === '--seed' && v) a.seed = Number(v);
    else if (flag === '--out' && v) a.out = v;
    else throw new Error(`soak: unknown argument ${flag} (have --minutes N, --seed N, --out FILE)`);
  }
  if (!(a.minutes > 0)) throw new Error('soak: --minutes must be a positive number');
  return a;
}

const TOKEN = 'soak-token';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getJson(url: string): Promise<Record<string, unknown> | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return (await res.json()) as Record<string, unknown>;
  } catch {
    return null;
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const root = mkdtempSync(join(tmpdir(), 'bitville-soak-'));
  const data = join(root, 'daemon-data');
  mkdirSync(data);
  let tmpfs = true;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=192m', 'tmpfs', data], { stdio: 'ignore' });
  } catch {
    tmpfs = false; // not root: the run goes on without the full-disk fault, and says so
  }
  const log = (msg: string): void => console.log(`[soak ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);
  const started = Date.now();

  const listenerDir = join(root, 'listener');
  const listenerConfig = writeYaml(join(root, 'listener.yaml'), { listen: '127.0.0.1:0', dataDir: listenerDir, tokens: { [TOKEN]: ['*'] }, log: { level: 'warn' } });
  const startListener = () => startRole('listener', listenerConfig, join(listenerDir, 'listener.json'));
  let listener = await startListener();
  const proxy = await startCountingProxy(String(listener.info.url));

  const socketPath = join(root, 'daemon.sock');
  const daemonConfig = writeYaml(join(root, 'daemon.yaml'), {
    socket: socketPath,
    dataDir: data,
    health: '127.0.0.1:0',
    buffer: { mode: 'durable', memoryItems: 100 },
    // drop_newest: under a full disk the client is told at once that its item was dropped, so the
    // invariant can name every item; drop_oldest would drop items acknowledged earlier (counted).
    spool: { maxBytes: 128 * 1024 * 1024, minFreeBytes: 2 * 1024 * 1024, whenFull: 'drop_newest' },
    forward: { url: proxy.url, token: TOKEN, batchItems: 200, flushIntervalMs: 200 },
    circuitBreaker: { retryTimeoutMs: 2_000 },
    lifecycle: { maxRequests: 5_000 },
    ingest: { idleTimeoutMs: 3_000 },
    log: { level: 'warn' },
  });
  const startDaemon = () => startRole('daemon', daemonConfig, daemonReadyFile(data));
  let daemon: Proc & { info: Record<string, unknown> } = await startDaemon();
  const health = async () => getJson(`http://${String(daemon.info.health)}/health`);

  const targets: ClientTargets = { socketPath, inboxDir: join(data, 'inbox'), budgetMs: 50 };
  const ledger = createLedger();
  const good = startGoodClients(targets, ledger, 4, 5);
  const havePhp = spawnSync('php', ['-v'], { stdio: 'ignore' }).status === 0;
  const php = havePhp ? startPhpClient(targets, ledger, 300) : null;
  const hostile = startHostileClients(socketPath, { idleConnections: 300 });
  log(`running ${args.minutes} min, seed ${args.seed}; data on ${tmpfs ? 'a 192 MB tmpfs' : 'the root disk (not root: no full-disk fault)'}; PHP client ${havePhp ? 'included' : 'not installed'}`);

  const faults: Record<string, number> = {};
  const anomalies: string[] = [];
  const nextFault = faultSchedule(args.seed);
  const deadline = started + args.minutes * 60_000;
  const expectExit = async (p: Proc, what: string, ok: (code: number | string) => boolean): Promise<void> => {
    const code = await Promise.race([p.exited, sleep(30_000).then(() => 'timeout')]);
    if (!ok(code)) anomalies.push(`${what}: exit ${code}\n${p.output().slice(-2_000)}`);
  };
  while (Date.now() < deadline) {
    await sleep(3_000 + (ledger.outcomes().size % 4) * 1_000);
    if (Date.now() >= deadline) break;
    let kind: FaultKind = nextFault();
    if (kind === 'disk_full' && !tmpfs) kind = nextFault();
    faults[kind] = (faults[kind] ?? 0) + 1;
    log(`fault: ${kind}`);
    switch (kind) {
      case 'daemon_sigterm':
        daemon.signal('SIGTERM');
        await expectExit(daemon, 'daemon SIGTERM', (c) => c === 0);
        await sleep(1_000); // clients find no socket and use their inbox meanwhile
        daemon = await startDaemon();
        break;
      case 'daemon_sigkill':
        daemon.signal('SIGKILL');
        await expectExit(daemon, 'daemon SIGKILL', () => true);
        daemon = await startDaemon();
        break;
      case 'daemon_sighup':
        daemon.signal('SIGHUP');
        break;
      case 'worker_sigkill': {
        const pid = ((await health())?.stats as { worker?: { pid?: unknown } } | undefined)?.worker?.pid;
        if (typeof pid === 'number') process.kill(pid, 'SIGKILL');
        break;
      }
      case 'listener_sigkill':
        listener.signal('SIGKILL');
        await expectExit(listener, 'listener SIGKILL', () => true);
        await sleep(1_500);
        listener = await startListener();
        proxy.setTarget(String(listener.info.url));
        break;
      case 'disk_full': {
        const free = await fillDisk(join(data, 'ballast'));
        await sleep(4_000);
        await free();
        break;
      }
    }
    const back = Date.now();
    while (Date.now() - back < 20_000) {
      const h = await health();
      if (h && (h.status === 'ok' || h.status === 'degraded')) break;
      await sleep(100);
    }
    if (Date.now() - back >= 20_000) anomalies.push(`daemon not healthy 20 s after ${kind}`);
  }

  log('faults over; stopping clients and draining');
  await good.stop();
  await php?.stop();
  hostile.stop();
  const drainStart = Date.now();
  let drained = false;
  while (Date.now() - drainStart < 180_000) {
    const h = await health();
    const b = (h?.stats as { buffer?: Record<string, number> } | undefined)?.buffer;
    const inbox = readdirSync(targets.inboxDir).filter((n) => n.startsWith('profile_')).length;
    if (b && b.memory_buffer_count === 0 && b.disk_items === 0 && b.in_flight_batches === 0 && inbox === 0) {
      drained = true;
      break;
    }
    await sleep(250);
  }
  if (!drained) anomalies.push('not drained within 180 s');

  const db = new Database(join(listenerDir, 'listener.db'), { readonly: true, fileMustExist: true });
  const storedRows = db.prepare('SELECT correlation_id FROM requests').pluck().all() as string[]; // every project: the PHP sender writes its own
  db.close();
  const stored = new Set(storedRows);
  const v = verdict(ledger, stored);
  const c = ledger.counts();
  const p = proxy.totals();
  const result = {
    minutes: args.minutes,
    seed: args.seed,
    faults,
    faults_total: Object.values(faults).reduce((a, b) => a + b, 0),
    sent: v.sent,
    acknowledged: c.acked,
    acknowledged_dropped_by_policy: c.acked_dropped,
    acknowledged_rejected: c.acked_rejected,
    inbox_fallbacks: c.inbox,
    client_gave_up: c.client_dropped,
    stored: v.stored,
    stored_rows_per_id_max: storedRows.length === stored.size ? 1 : 'duplicated rows',
    duplicates_filtered_by_listener: p.duplicates,
    batches_answered: p.batches,
    lost: v.lost.length,
    dropped_but_stored: v.droppedButStored.length,
    unknown_stored: v.unknownStored.length,
    hostile: hostile.stats(),
    anomalies,
  };
  proxy.close().catch(() => undefined);
  daemon.signal('SIGTERM');
  await Promise.race([daemon.exited, sleep(10_000)]);
  listener.signal('SIGTERM');
  await Promise.race([listener.exited, sleep(10_000)]);
  if (tmpfs) execFileSync('umount', ['-l', data]);

  console.log('\n| figure | value |\n|---|---|');
  for (const [k, val] of Object.entries(result)) if (k !== 'anomalies' && k !== 'hostile' && k !== 'faults') console.log(`| ${k} | ${String(val)} |`);
  console.log(`| faults by kind | ${Object.entries(faults).map(([k, n]) => `${k} ${n}`).join(', ')} |`);
  console.log(`| hostile traffic | ${Object.entries(result.hostile).map(([k, n]) => `${k} ${n}`).join(', ')} |`);
  if (v.lost.length > 0) console.log(`LOST (first 20): ${v.lost.slice(0, 20).map((id) => `${id} (${ledger.outcomes().get(id)})`).join(' ')}`);
  if (v.unknownStored.length > 0) console.log(`stored but not in the ledger (first 20): ${v.unknownStored.slice(0, 20).join(' ')}`);
  if (v.droppedButStored.length > 0) console.log(`counted as dropped but stored (first 20): ${v.droppedButStored.slice(0, 20).join(' ')}`);
  for (const a of anomalies) console.log(`ANOMALY: ${a}`);
  if (args.out) writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');
  const ok = v.lost.length === 0 && v.droppedButStored.length === 0 && anomalies.length === 0 && storedRows.length === stored.size;
  console.log(ok ? '\nsoak: OK — lost 0' : '\nsoak: FAILED');
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
