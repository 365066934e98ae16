/**
 * The Debian package (issue 11): `npm run package`'s script builds it, dpkg installs it into a
 * throwaway root (`dpkg --root` with chrootless maintainer scripts; docs/deploy.md), and the
 * daemon starts from it — its bundled Node, its unit's command line, its config, as the system
 * user the package creates — inside a chroot that has only the package and the C libraries.
 * A reinstall keeps the edited config and the spool.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync, chownSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../helpers/daemon-process.js';
import { REPO } from '../helpers/php-fpm.js';
import { skipUnlessRequired } from '../helpers/require-all.js';
import { lineFor } from '../helpers/profiles.js';
import { sendOnce } from '../helpers/socket-client.js';
import { spawnTracked } from '../helpers/tracked-process.js';
import { waitFor } from '../helpers/wait-for.js';

function missingTools(): string | false {
  for (const tool of ['dpkg-deb', 'dpkg', 'fakeroot', 'useradd', 'chroot', 'systemctl', 'systemd-analyze']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return skipUnlessRequired(`${tool} is not installed (.ci/run installs dpkg-dev, fakeroot and systemd)`);
  }
  return process.getuid?.() === 0 ? false : skipUnlessRequired('installing into a root and chroot need root');
}

const mounts: string[] = [];
after(() => {
  for (const m of mounts) spawnSync('umount', ['-l', m]);
});

/** An empty root dpkg accepts: its database and the account files useradd --prefix edits. */
function makeRoot(): string {
  const root = tempDir('bitville-deb-root-');
  chmodSync(root, 0o755); // the chroot's / (mkdtemp makes it 0700)
  for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/log', 'etc', 'run', 'tmp', 'usr/sbin']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'var/lib/dpkg/status'), '');
  writeFileSync(join(root, 'var/lib/dpkg/available'), '');
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nwww-data:x:33:\n');
  writeFileSync(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\nwww-data:*:19000:0:99999:7:::\n', { mode: 0o640 });
  writeFileSync(join(root, 'etc/gshadow'), 'root:*::\nwww-data:*::\n', { mode: 0o640 });
  symlinkSync('../run', join(root, 'var/run'));
  return root;
}

/** The C libraries the bundled node and /bin/sh load, copied to the same paths: all a chroot needs. */
function addLibraries(root: string): void {
  const libs = new Set<string>();
  for (const bin of [join(root, 'opt/bitville-apm/node/bin/node'), '/bin/sh', join(root, 'opt/bitville-apm/node_modules/better-sqlite3/build/Release/better_sqlite3.node')]) {
    for (const m of execFileSync('ldd', [bin], { encoding: 'utf8' }).matchAll(/(\/\S+\.so[^\s]*)/g)) if (m[1]) libs.add(m[1]);
  }
  // /proc as on any host (the worker reads its RSS there); unmounted after the test.
  mkdirSync(join(root, 'proc'), { recursive: true });
  execFileSync('mount', ['-t', 'proc', 'proc', join(root, 'proc')]);
  mounts.push(join(root, 'proc'));
  mkdirSync(join(root, 'dev'), { recursive: true });
  execFileSync('mknod', ['-m', '666', join(root, 'dev/null'), 'c', '1', '3']); // child processes' ignored stdio
  for (const lib of [...libs, '/bin/sh']) {
    mkdirSync(join(root, dirname(lib)), { recursive: true });
    copyFileSync(lib, join(root, lib));
  }
}

function dpkgInstall(root: string, deb: string): void {
  // Chrootless scripts (DPKG_ROOT set by dpkg) and no dependency check: the root has no libc package.
  execFileSync('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--force-confold', '--log=/dev/null', '-i', deb], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function mode(path: string): string {
  return (statSync(path).mode & 0o7777).toString(8);
}

describe('Debian package', { skip: missingTools() }, () => {
  test('installs under /opt/bitville-apm with its own Node, units, conffiles, a system user and an inbox www-data can write; the daemon starts from it; a reinstall keeps config and spool', async () => {
    const out = tempDir('bitville-deb-out-');
    const built = spawnSync(process.execPath, [join(REPO, 'scripts', 'package-deb.mjs'), '--out', out], { encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    const deb = built.stdout.trim().split('\n').pop() ?? '';
    assert.match(deb, /bitville-apm_\d+\.\d+\.\d+-1_\w+\.deb$/);
    const contents = execFileSync('dpkg-deb', ['--contents', deb], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.ok(!/node_modules\/(typescript|eslint|vite|playwright-core)\//.test(contents), 'no development dependencies');
    assert.ok(!/opt\/bitville-apm\/dist\/.*\.test\.js$/m.test(contents), "no test files of ours");
    assert.ok(/\/opt\/bitville-apm\/node_modules\/better-sqlite3\/build\/Release\/better_sqlite3\.node$/m.test(contents), 'the SQLite driver, built');

    const root = makeRoot();
    dpkgInstall(root, deb);
    const status = execFileSync('dpkg', [`--root=${root}`, '-s', 'bitville-apm'], { encoding: 'utf8' });
    assert.match(status, /Status: install ok installed/);
    assert.match(status, /Conffiles:\n \/etc\/bitville-apm\/daemon\.yaml [0-9a-f]+\n \/etc\/bitville-apm\/listener\.yaml/);
    for (const f of ['usr/bin/bitville-apm', 'opt/bitville-apm/node/bin/node', 'opt/bitville-apm/clients/php/bitville-apm.php', 'usr/share/bitville-apm/examples/php-fpm-pool.conf']) assert.ok(existsSync(join(root, f)), f);
    const units = readdirSync(join(root, 'lib/systemd/system'));
    for (const u of ['bitville-apm-daemon.service', 'bitville-apm-listener.service']) assert.ok(units.includes(u), u);
    if (existsSync(join(REPO, 'deploy/systemd/bitville-apm-pg-agent.service'))) assert.ok(units.includes('bitville-apm-pg-agent.service'));
    const unit = readFileSync(join(root, 'lib/systemd/system/bitville-apm-daemon.service'), 'utf8');
    const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
    assert.equal(execStart, '/usr/bin/bitville-apm daemon --config /etc/bitville-apm/daemon.yaml');
    const user = readFileSync(join(root, 'etc/passwd'), 'utf8').split('\n').find((l) => l.startsWith('bitville-apm:'))?.split(':');
    assert.ok(user, 'postinst created the system user');
    const [uid, gid] = [Number(user[2]), Number(user[3])];
    assert.ok(uid < 1000, `a system uid (${uid})`);
    assert.equal(mode(join(root, 'var/lib/bitville-apm')), '755');
    assert.equal(mode(join(root, 'var/lib/bitville-apm/inbox')), '1777');
    assert.equal(statSync(join(root, 'var/lib/bitville-apm')).uid, uid);
    assert.equal(mode(join(root, 'etc/bitville-apm/listener.yaml')), '640');

    // The README's `systemctl enable`, offline into the root (no systemd runs here, so no --now:
    // the start below runs the unit's ExecStart by hand). The units parse without complaints.
    const enabled = spawnSync('systemctl', [`--root=${root}`, 'enable', 'bitville-apm-daemon', 'bitville-apm-listener'], { encoding: 'utf8' });
    assert.equal(enabled.status, 0, enabled.stderr);
    for (const u of ['bitville-apm-daemon.service', 'bitville-apm-listener.service']) {
      assert.equal(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants', u)), `/lib/systemd/system/${u}`);
    }
    // The README's optional one-process daemon: systemd holds the socket (docs/daemon.md).
    assert.ok(units.includes('bitville-apm-daemon.socket'), 'the .socket unit ships');
    assert.ok(!existsSync(join(root, 'etc/systemd/system/sockets.target.wants/bitville-apm-daemon.socket')), 'it ships disabled');
    const socketEnabled = spawnSync('systemctl', [`--root=${root}`, 'enable', 'bitville-apm-daemon.socket'], { encoding: 'utf8' });
    assert.equal(socketEnabled.status, 0, socketEnabled.stderr);
    assert.equal(readlinkSync(join(root, 'etc/systemd/system/sockets.target.wants/bitville-apm-daemon.socket')), '/lib/systemd/system/bitville-apm-daemon.socket');
    const verify = spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...units.map((u) => `/lib/systemd/system/${u}`)], { encoding: 'utf8' });
    // What the empty root lacks (systemd's own targets, /bin/kill) is expected; a bad key or value is not.
    const complaints = `${verify.stdout}${verify.stderr}`.split('\n').filter((l) => l && !/sysinit\.target not found|is not executable: No such file/.test(l));
    assert.deepEqual(complaints, [], 'systemd-analyze verify');

    // Start the daemon the way its unit does, as its user, in a chroot of the package and libc.
    addLibraries(root);
    mkdirSync(join(root, 'run/bitville-apm'), { mode: 0o755 });
    chownSync(join(root, 'run/bitville-apm'), uid, gid); // RuntimeDirectory= of the unit
    const conf = join(root, 'etc/bitville-apm/daemon.yaml');
    writeFileSync(conf, readFileSync(conf, 'utf8').replace(/^health: .*$/m, 'health: "127.0.0.1:0"   # edited by the test'));
    const start = async () => {
      const { proc, exited, output } = spawnTracked('chroot', [`--userspec=${uid}:${gid}`, root, ...execStart.split(' ')], { detached: true, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
      const stateFile = join(root, 'var/lib/bitville-apm/state/daemon.json');
      const info = await waitFor(() => {
        const s = JSON.parse(readFileSync(stateFile, 'utf8')) as { pid: number; health: string };
        return s.pid === proc.pid || existsSync(`/proc/${s.pid}`) ? s : null;
      }, { timeoutMs: 20_000, what: `the packaged daemon to be ready: ${output()}` });
      const accepted = async () => ((await (await fetch(`http://${info.health}/health`)).json()) as { stats: { ingest: { accepted: number } } }).stats.ingest.accepted;
      return { proc, exited, accepted, output };
    };
    const first = await start();
    const socket = join(root, 'run/bitville-apm/daemon.sock');
    assert.equal(mode(socket), '666', 'PHP-FPM users may connect');
    await sendOnce(socket, lineFor('deb-1'));
    await waitFor(async () => (await first.accepted()) === 1, { what: 'the profile sent to the packaged daemon' });
    // www-data drops a file in the inbox (the PHP client's fallback); the daemon, another user, reads it.
    const dropped = spawnSync('chroot', ['--userspec=33:33', root, '/bin/sh', '-c', `printf '%s' '${lineFor('deb-2').trim()}' > /var/lib/bitville-apm/inbox/profile_1_deb-2.json`]);
    assert.equal(dropped.status, 0, String(dropped.stderr));
    await waitFor(async () => (await first.accepted()) === 2, { timeoutMs: 10_000, what: 'the inbox file written by www-data' });
    // `bitville-apm doctor` from the package, as root on the host would run it: the packaged
    // layout passes the local checks; the listener named in the example config is not there.
    // The README's pool snippet (the packaged example) in the root's FPM pool, so the command runs with no paths.
    mkdirSync(join(root, 'etc/php/8.2/fpm/pool.d'), { recursive: true });
    writeFileSync(join(root, 'etc/php/8.2/fpm/pool.d/www.conf'), `[www]\nuser = www-data\n${readFileSync(join(root, 'usr/share/bitville-apm/examples/php-fpm-pool.conf'), 'utf8')}`);
    const doc = spawnSync('chroot', [root, '/usr/bin/bitville-apm', 'doctor', '--json'], { encoding: 'utf8' });
    const checks = (JSON.parse(doc.stdout) as { checks: Array<{ check: string; status: string; message: string }> }).checks;
    const finding = (name: string) => checks.find((c) => c.check === name || c.check.startsWith(`${name} `));
    assert.match(finding('config')?.message ?? '', /^\/etc\/bitville-apm\/daemon\.yaml: valid/);
    for (const name of ['config', 'socket', 'inbox', 'fpm pool www']) assert.equal(finding(name)?.status, 'ok', JSON.stringify(finding(name)));
    // No listener here: after five failed sends the breaker opens, which /health reports as degraded.
    // How soon depends on the backoff's jitter and the machine's load, so both answers are right; anything else is not.
    const health = finding('health');
    assert.ok(health?.status === 'ok' || (health?.status === 'warn' && /: degraded \(circuit_open\)$/.test(health.message)), JSON.stringify(health));
    assert.match(finding('inbox')?.message ?? '', /1777 bitville-apm:bitville-apm\): www-data may write, the daemon \(bitville-apm\) may read and remove/);
    assert.equal(finding('listener')?.status, 'fail', 'no listener and no token yet');
    assert.equal(doc.status, 1);
    first.proc.kill('SIGTERM');
    assert.equal(await first.exited, 0, first.output());
    const spool = () => readdirSync(join(root, 'var/lib/bitville-apm/buffer')).filter((f) => f.endsWith('.ndjson'));
    assert.ok(spool().length > 0, 'undelivered profiles wait in the spool (no listener here)');

    // Reinstall (dpkg's upgrade path): the edited conffile and the spool stay.
    const spoolBefore = spool();
    dpkgInstall(root, deb);
    assert.match(readFileSync(join(root, 'etc/bitville-apm/daemon.yaml'), 'utf8'), /edited by the test/);
    assert.deepEqual(spool(), spoolBefore);
    const second = await start();
    await waitFor(async () => (await second.accepted()) >= 0, { what: 'the daemon after the reinstall' });
    second.proc.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output());
  });
});
