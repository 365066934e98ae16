/**
 * `bitville-apm doctor` (issue 11) against real parts: a daemon and a listener started by the
 * test helpers, a temp PHP-FPM pool folder with pool files, real modes and owners (www-data =
 * uid 33 on Debian), a listener whose clock libfaketime puts 30 s back. No system path is read
 * except /etc/passwd and /etc/group; every path the doctor judges is given by flag or config.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli, spawnDaemon, tempDir, type DaemonHandle } from '../helpers/daemon-process.js';
import { freePort, spawnListener, type ListenerHandle } from '../helpers/listener-process.js';
import { REPO } from '../helpers/php-fpm.js';
import { skipUnlessRequired } from '../helpers/require-all.js';
import { waitFor } from '../helpers/wait-for.js';

const TOKEN = 'doctor-token';
const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

interface Result {
  check: string;
  status: 'ok' | 'warn' | 'fail';
  message: string;
  fix?: string;
}

function missing(): string | false {
  if (process.getuid?.() !== 0) return skipUnlessRequired('the permission checks need files owned by www-data (uid 33): run as root');
  if (spawnSync('id', ['www-data']).status !== 0) return skipUnlessRequired('no www-data user');
  if (!existsSync(FAKETIME_LIB)) return skipUnlessRequired(`${FAKETIME_LIB} is missing (apt-get install libfaketime; .ci/run installs it)`);
  return false;
}

/** The shipped pool snippet with this test's paths: the file a user copies must pass the doctor. */
function examplePool(socket: string, inbox: string): string {
  const example = readFileSync(join(REPO, 'deploy', 'php-fpm', 'bitville-apm-pool.conf'), 'utf8')
    .replace('/var/run/bitville-apm/daemon.sock', socket)
    .replace('/var/lib/bitville-apm/inbox', inbox);
  return `[www]\nuser = www-data\ngroup = www-data\nlisten = /run/php/php8.2-fpm.sock\n${example}`;
}

function poolDir(root: string, name: string, text: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'www.conf'), text);
  return dir;
}

let noSystemPaths: string[] = [];

/** Runs the doctor with no system pool folder or client INI file: only what the test made. */
async function doctor(args: string[]): Promise<{ code: number; stdout: string; results: Result[] }> {
  const res = await runCli(['doctor', '--json', '--timeout-ms', '5000', ...noSystemPaths, ...args]);
  assert.equal(res.stderr, '', 'the doctor writes findings to stdout only');
  const doc = JSON.parse(res.stdout) as { exit_code: number; checks: Result[] };
  assert.equal(doc.exit_code, res.code);
  return { code: res.code, stdout: res.stdout, results: doc.checks };
}

function find(results: Result[], check: string | RegExp): Result {
  const r = results.find((x) => (typeof check === 'string' ? x.check === check : check.test(x.check)));
  assert.ok(r, `a ${String(check)} check in ${JSON.stringify(results, null, 1)}`);
  return r;
}

describe('bitville-apm doctor', { skip: missing() }, () => {
  let root: string;
  let listener: ListenerHandle;
  let daemon: DaemonHandle;
  let goodConfig: string;
  let goodPools: string;
  let inbox: string;

  before(async () => {
    root = tempDir('bitville-doctor-');
    chmodSync(root, 0o755); // www-data must reach the daemon's socket and inbox below it
    mkdirSync(join(root, 'listener'));
    mkdirSync(join(root, 'daemon'), { mode: 0o755 });
    listener = await spawnListener(join(root, 'listener'), { tokens: { [TOKEN]: ['*'] } });
    // Small spool limits: the healthy case must not depend on the test machine's free disk.
    daemon = await spawnDaemon(join(root, 'daemon'), { forward: { url: listener.url, token: TOKEN }, spool: { maxBytes: 16 * 1024 * 1024, minFreeBytes: 1024 * 1024 } });
    goodConfig = join(daemon.dir, 'daemon.yaml');
    inbox = join(daemon.dataDir, 'inbox');
    await waitFor(() => existsSync(inbox), { what: 'the inbox the daemon creates' });
    goodPools = poolDir(root, 'pools-good', examplePool(daemon.socketPath, inbox));
    mkdirSync(join(root, 'pools-none'));
    noSystemPaths = ['--fpm-pool-dir', join(root, 'pools-none'), '--php-ini', join(root, 'no.ini')];
  });
  after(() => {
    daemon.kill('SIGKILL');
    listener.proc.kill('SIGKILL');
  });

  test('passes every check on a host set up as documented and exits 0 (the README command)', async () => {
    const r = await doctor(['--config', goodConfig, '--fpm-pool-dir', goodPools]);
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(r.results.map((x) => x.check), ['config', 'socket', 'health', 'inbox', 'fpm pool www', `listener ${listener.url}`, 'clock', 'disk']);
    for (const x of r.results) assert.equal(x.status, 'ok', `${x.check}: ${x.message}`);
    assert.match(find(r.results, 'socket').message, /is a socket \(0666 .*\), www-data may connect, the daemon accepts connections/);
    assert.match(find(r.results, 'inbox').message, /1777 .*www-data may write, the daemon \(root\) may read and remove/);
    assert.match(find(r.results, /^listener/).message, /token accepted/);
    // The plain text form: one line per check, then the counts.
    const text = await runCli(['doctor', '--config', goodConfig, '--fpm-pool-dir', goodPools, ...noSystemPaths]);
    assert.equal(text.code, 0);
    const lines = text.stdout.trim().split('\n');
    assert.equal(lines.length, 9);
    assert.match(lines[1] ?? '', /^ok {3}socket: /);
    assert.equal(lines[8], '8 ok, 0 warning(s), 0 failed');
  });

  test('a host with everything wrong fails each check and says what to fix, exit 1', async () => {
    const dir = join(root, 'broken');
    mkdirSync(dir);
    const config = join(dir, 'daemon.yaml');
    writeFileSync(config, stringify({
      socket: join(dir, 'missing.sock'),
      dataDir: join(dir, 'data'),
      health: `127.0.0.1:${await freePort()}`,
      forward: { url: listener.url, token: 'not-the-token' },
      spool: { minFreeBytes: 2 ** 50 }, // 1 PiB
    }));
    const pools = poolDir(root, 'pools-broken', [
      '[shop]', 'user = www-data',
      'env[BITVILLE_APM_PROFILER] = none',
      `env[BITVILLE_APM_DAEMON_SOCKET_PATH] = "${join(dir, 'elsewhere.sock')}"`,
      `env[BITVILLE_APM_INBOX_PATH] = "${join(dir, 'data', 'inbox')}"`, '',
    ].join('\n'));
    const r = await doctor(['--config', config, '--fpm-pool-dir', pools]);
    assert.equal(r.code, 1);
    const socket = find(r.results, 'socket');
    assert.equal(socket.status, 'fail');
    assert.match(socket.message, /missing\.sock does not exist/);
    assert.match(socket.fix ?? '', /start the daemon \(systemctl start bitville-apm-daemon/);
    assert.match(find(r.results, 'health').message, /no answer from http:\/\/127\.0\.0\.1:\d+\/health \(ECONNREFUSED\)/);
    const inboxCheck = find(r.results, 'inbox');
    assert.equal(inboxCheck.status, 'fail');
    assert.match(inboxCheck.message, /data\/inbox does not exist/);
    assert.match(inboxCheck.fix ?? '', /install -d -m 1777/);
    const pool = find(r.results, 'fpm pool shop');
    assert.equal(pool.status, 'fail');
    assert.match(pool.message, /env\[BITVILLE_APM_PROFILER\] = none \(.*www\.conf:3\) is an empty value to FPM, which then refuses to start/);
    assert.match(pool.message, /the client's socket is .*elsewhere\.sock \(env\[BITVILLE_APM_DAEMON_SOCKET_PATH\]\) but the daemon's is .*missing\.sock/);
    assert.match(pool.fix ?? '', /quote it: env\[BITVILLE_APM_PROFILER\] = "none"/);
    assert.match(pool.fix ?? '', /set env\[BITVILLE_APM_DAEMON_SOCKET_PATH\] = ".*missing\.sock"/);
    const l = find(r.results, /^listener/);
    assert.equal(l.status, 'fail');
    assert.match(l.message, /token is refused \(HTTP 401\)/);
    assert.match(l.fix ?? '', /forward\.token/);
    const disk = find(r.results, 'disk');
    assert.equal(disk.status, 'fail');
    assert.match(disk.message, /below spool\.minFreeBytes \(1\.0 PiB\)/);
    assert.equal(find(r.results, 'clock').status, 'ok', 'the listener answered (401) with a Date');
  });

  test('a socket path that is a file, a socket nobody listens on, and a socket www-data may not open each fail', async () => {
    const dir = join(root, 'sockets');
    mkdirSync(dir, { mode: 0o755 });
    const file = join(dir, 'file.sock');
    writeFileSync(file, 'not a socket');
    // A process that binds a socket and dies by SIGKILL leaves the file behind.
    const stale = join(dir, 'stale.sock');
    const binder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    await new Promise((r) => binder.on('exit', r));
    assert.ok(existsSync(stale));
    chmodSync(stale, 0o666); // as the daemon leaves it: only the listening part is missing
    const variant = (name: string, socket: string) => {
      const f = join(dir, `${name}.yaml`);
      writeFileSync(f, readFileSync(goodConfig, 'utf8').replace(/^socket: .*$/m, `socket: ${socket}`));
      return f;
    };
    const [asFile, asStale] = await Promise.all([
      doctor(['--config', variant('file', file), '--fpm-user', 'www-data']),
      doctor(['--config', variant('stale', stale), '--fpm-user', 'www-data']),
    ]);
    assert.match(find(asFile.results, 'socket').message, /file\.sock is a regular file, not a socket/);
    assert.match(find(asFile.results, 'socket').fix ?? '', /remove it \(rm .*file\.sock\)/);
    assert.match(find(asStale.results, 'socket').message, /stale\.sock is a socket nobody listens on/);
    assert.equal(asFile.code, 1);
    chmodSync(daemon.socketPath, 0o600);
    try {
      const closed = await doctor(['--config', goodConfig, '--fpm-user', 'www-data']);
      const s = find(closed.results, 'socket');
      assert.equal(s.status, 'fail');
      assert.match(s.message, /www-data cannot connect to .*daemon\.sock \(0600 root:root\)/);
    } finally {
      chmodSync(daemon.socketPath, 0o666);
    }
  });

  test('an inbox www-data cannot write to, or the daemon user cannot read, fails', async () => {
    try {
      chmodSync(inbox, 0o755);
      const noWrite = await doctor(['--config', goodConfig, '--fpm-user', 'www-data']);
      assert.match(find(noWrite.results, 'inbox').message, /www-data cannot write files into .*inbox \(0755 root:root\)/);
      assert.match(find(noWrite.results, 'inbox').fix ?? '', /chmod 1777/);
      chmodSync(inbox, 0o1733); // others may create files but not list them
      const noRead = await doctor(['--config', goodConfig, '--fpm-user', 'www-data', '--daemon-user', 'nobody']);
      const i = find(noRead.results, 'inbox');
      assert.equal(i.status, 'fail');
      assert.doesNotMatch(i.message, /www-data cannot/);
      assert.match(i.message, /nobody cannot read and remove files in .*inbox \(1733 root:root\) \(the daemon runs as nobody\)/);
    } finally {
      chmodSync(inbox, 0o1777);
    }
  });

  test('a pool that clears the environment without our settings warns which settings the client then uses; warnings exit 0, with --strict 1', async () => {
    const pools = poolDir(root, 'pools-bare', '[www]\nuser = www-data\n; clear_env is yes by default\n');
    const ini = join(root, 'profiling.ini');
    writeFileSync(ini, `project_name = "billing"\ndaemon_socket_path = "${daemon.socketPath}"\ninbox_path = "${inbox}"\n`);
    const [withIni, strict, noIni] = await Promise.all([
      doctor(['--config', goodConfig, '--fpm-pool-dir', pools, '--php-ini', ini]),
      doctor(['--config', goodConfig, '--fpm-pool-dir', pools, '--php-ini', ini, '--strict']),
      doctor(['--config', goodConfig, '--fpm-pool-dir', pools, '--php-ini', join(root, 'absent.ini')]),
    ]);
    const p = find(withIni.results, 'fpm pool www');
    assert.equal(p.status, 'warn');
    assert.match(p.message, new RegExp(`clear_env = yes and no env\\[BITVILLE_APM_\\*\\] lines, so the client uses the INI file ${ini}: project "billing"`));
    assert.match(p.fix ?? '', /php-fpm-pool\.conf/);
    assert.equal(withIni.code, 0, 'warnings alone pass');
    assert.equal(strict.code, 1, '--strict fails on warnings');
    const d = find(noIni.results, 'fpm pool www');
    assert.equal(d.status, 'fail', 'the defaults point at another socket than this daemon');
    assert.match(d.message, /the client uses its defaults \(no INI file at .*absent\.ini\): project "default", socket \/var\/run\/bitville-apm\/daemon\.sock/);
    assert.match(d.message, /the client's socket is \/var\/run\/bitville-apm\/daemon\.sock \(default\) but the daemon's is/);
  });

  test("a listener whose clock is 30 s behind fails the clock check; an unreachable listener and an invalid config fail too", async () => {
    mkdirSync(join(root, 'late'));
    const late = await spawnListener(join(root, 'late'), { tokens: { [TOKEN]: ['*'] } }, [], { ...process.env, LD_PRELOAD: FAKETIME_LIB, FAKETIME: '-30s' });
    try {
      const dir = join(root, 'clock');
      mkdirSync(dir);
      const lateConfig = join(dir, 'late.yaml');
      writeFileSync(lateConfig, readFileSync(goodConfig, 'utf8').replace(listener.url, late.url));
      const goneConfig = join(dir, 'gone.yaml');
      writeFileSync(goneConfig, readFileSync(goodConfig, 'utf8').replace(listener.url, `http://127.0.0.1:${await freePort()}`));
      const badConfig = join(dir, 'bad.yaml');
      writeFileSync(badConfig, 'bufer: { mode: durable }\nforward: { url: "ftp://x" }\n');
      const [skewed, gone, bad] = await Promise.all([
        doctor(['--config', lateConfig, '--fpm-user', 'www-data']),
        doctor(['--config', goneConfig, '--fpm-user', 'www-data']),
        doctor(['--config', badConfig]),
      ]);
      assert.equal(find(skewed.results, /^listener/).status, 'ok');
      const clock = find(skewed.results, 'clock');
      assert.equal(clock.status, 'fail');
      // The Date header has whole seconds and the round trip widens the window: at least 30 - 1 - rtt.
      const ahead = Number(/this host's clock is (\d+\.\d) s ahead of the listener .*more than 5 s/.exec(clock.message)?.[1]);
      assert.ok(ahead >= 25 && ahead <= 31, clock.message);
      assert.match(clock.fix ?? '', /NTP/);
      assert.equal(skewed.code, 1);
      assert.match(find(gone.results, /^listener/).message, /not reachable: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/projects failed \(ECONNREFUSED\)/);
      assert.equal(find(gone.results, 'clock').status, 'warn');
      assert.equal(bad.code, 1);
      assert.equal(bad.results.length, 1, 'nothing else is judged against a config the daemon would refuse');
      assert.match(find(bad.results, 'config').message, /bufer: unknown key \(did you mean buffer\?\)/);
      assert.match(find(bad.results, 'config').message, /forward\.url = "ftp:\/\/x": expected an http:\/\/ or https:\/\/ URL/);
    } finally {
      late.proc.kill('SIGKILL');
    }
  });
});
