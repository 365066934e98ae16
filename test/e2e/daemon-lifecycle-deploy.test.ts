import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { daemonConfigSchema } from '../../src/shared/config/daemon-config.js';
import { WORKER_DEFAULTS } from '../../src/daemon/lifecycle/worker-node-flags.js';

const DEPLOY = new URL('../../../deploy/', import.meta.url); // from dist/test/e2e
const UNIT = new URL('systemd/bitville-apm-daemon.service', DEPLOY).pathname;
const SOCKET_UNIT = new URL('systemd/bitville-apm-daemon.socket', DEPLOY).pathname;
const SUPERVISORD = new URL('supervisord/bitville-apm-daemon.conf', DEPLOY).pathname;

/** `key -> values` of one INI-style section (systemd and supervisord both allow repeated keys). */
function section(text: string, name: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let inside = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      inside = line === `[${name}]`;
      continue;
    }
    const eq = line.indexOf('=');
    if (!inside || eq === -1) continue;
    const key = line.slice(0, eq).trim();
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return out;
}

const drainS = daemonConfigSchema.parse({}).shutdown.drainMs / 1000;

test('the systemd unit is hardened, reloads with HUP and stops with SIGTERM after more than the drain time', () => {
  const s = section(readFileSync(UNIT, 'utf8'), 'Service');
  const one = (k: string) => s.get(k)?.at(-1);
  assert.match(one('ExecStart') ?? '', /main\.js daemon --config \/etc\/bitville-apm\/daemon\.yaml$/);
  assert.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
  assert.equal(one('KillSignal'), 'SIGTERM');
  assert.ok(Number(one('TimeoutStopSec')) > 2 * drainS, 'TimeoutStopSec covers drain of connections and of an in-flight batch');
  assert.equal(one('User'), 'bitville-apm');
  assert.equal(one('ProtectSystem'), 'strict');
  assert.equal(one('NoNewPrivileges'), 'yes');
  assert.equal(one('RuntimeDirectory'), 'bitville-apm'); // /run/bitville-apm holds daemon.sock (DESIGN section 2 default)
  assert.match(one('ReadWritePaths') ?? '', /\/var\/lib\/bitville-apm/);
  assert.equal(one('CapabilityBoundingSet'), '');
  assert.match(one('RestrictAddressFamilies') ?? '', /AF_UNIX/);
});

test('the systemd unit gives the daemon the V8 flags the supervisor gives its worker (a socket-activated daemon is its own worker)', () => {
  const s = section(readFileSync(UNIT, 'utf8'), 'Service');
  const flags = (s.get('Environment') ?? []).map((e) => /^"?BITVILLE_APM_NODE_FLAGS=([^"]*)"?$/.exec(e)?.[1]).find((v) => v !== undefined);
  assert.deepEqual(flags?.split(' '), [...WORKER_DEFAULTS]);
  assert.match(s.get('ExecStart')?.at(-1) ?? '', /^\/usr\/bin\/node \$BITVILLE_APM_NODE_FLAGS /);
  assert.equal(s.get('Restart')?.at(-1), 'always', 'a socket-activated daemon exits 0 at a lifecycle limit for the next one to start');
  assert.equal(s.get('RuntimeDirectoryPreserve')?.at(-1), 'yes', "the .socket unit's socket lives in the runtime directory between two runs");
  const socket = section(readFileSync(SOCKET_UNIT, 'utf8'), 'Socket');
  assert.equal(socket.get('ListenStream')?.at(-1), daemonConfigSchema.parse({}).socket.replace(/^\/var\/run\//, '/run/'), 'the config default socket path');
  assert.equal(socket.get('SocketMode')?.at(-1), '0666');
});

test('the systemd unit passes `systemd-analyze verify` without a single warning', (t) => {
  if (!existsSync('/usr/bin/systemd-analyze')) {
    t.skip('systemd-analyze is not installed here; the directives are still checked above');
    return;
  }
  const r = spawnSync('/usr/bin/systemd-analyze', ['verify', UNIT, SOCKET_UNIT], { encoding: 'utf8' });
  // verify exits 0 even for unknown keys or bad values; it only warns, so any output is a failure.
  const output = (r.stdout + r.stderr).split('\n').filter((l) => l.trim() !== '' && !/User .* not found|Failed to resolve user/i.test(l));
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(output, []);
});

test('the supervisord example stops the whole group with TERM and waits longer than the drain time', () => {
  const s = section(readFileSync(SUPERVISORD, 'utf8'), 'program:bitville-apm-daemon');
  const one = (k: string) => s.get(k)?.at(-1);
  assert.match(one('command') ?? '', /main\.js daemon --config /);
  assert.equal(one('stopsignal'), 'TERM');
  assert.equal(one('stopasgroup'), 'true');
  assert.equal(one('killasgroup'), 'true');
  assert.ok(Number(one('stopwaitsecs')) > 2 * drainS);
  assert.equal(one('user'), 'bitville-apm');
  assert.equal(one('autorestart'), 'unexpected');
});
