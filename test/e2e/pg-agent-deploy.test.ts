import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgAgentConfigSchema } from '../../src/shared/config/pg-agent-config.js';

const UNIT = new URL('../../../deploy/systemd/bitville-apm-pg-agent.service', import.meta.url).pathname; // from dist/test/e2e

function service(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let inside = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) inside = line === '[Service]';
    else if (inside && line.includes('=')) out.set(line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1));
  }
  return out;
}

test('the pg-agent systemd unit runs `pg-agent --config`, is hardened, and waits longer than a query plus a send at stop', () => {
  const s = service(readFileSync(UNIT, 'utf8'));
  assert.match(s.get('ExecStart') ?? '', /main\.js pg-agent --config \/etc\/bitville-apm\/pg-agent\.yaml$/);
  assert.equal(s.get('User'), 'bitville-apm');
  assert.equal(s.get('SupplementaryGroups'), 'postgres', 'reads the server log with log_file_mode 0640');
  assert.equal(s.get('ProtectSystem'), 'strict');
  assert.equal(s.get('NoNewPrivileges'), 'yes');
  const d = pgAgentConfigSchema.parse({});
  assert.ok(Number(s.get('TimeoutStopSec')) * 1000 > d.safety.statementTimeoutMs + d.send.timeoutMs);
  if (existsSync('/usr/bin/systemd-analyze')) {
    const r = spawnSync('/usr/bin/systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
    const output = (r.stdout + r.stderr).split('\n').filter((l) => l.trim() !== '' && !/User .* not found|Failed to resolve user|group .*postgres/i.test(l));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(output, []);
  }
});

test('`config check --role pg-agent` accepts a valid file and lists every problem of a bad one (exit 2)', () => {
  const cli = new URL('../../src/cli/main.js', import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), 'bitville-pgcfg-'));
  const good = join(dir, 'good.yaml');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(good, 'database: "postgres://bitville_monitor@db:5432/shop"\nproject: shop\nlogs: { path: /var/log/postgresql, format: csvlog }\n');
  writeFileSync(bad, 'database: "postgres://x@db/shop"\nsend: { socket: /run/x.sock, tokn: y }\nsafety: { statementTimeoutMs: 1 }\n');
  const ok = spawnSync(process.execPath, [cli, 'config', 'check', '--role', 'pg-agent', '--config', good], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /valid pg-agent config/);
  const no = spawnSync(process.execPath, [cli, 'config', 'check', '--role', 'pg-agent', '--config', bad], { encoding: 'utf8' });
  assert.equal(no.status, 2);
  assert.match(no.stderr, /tokn/);
  assert.match(no.stderr, /safety\.statementTimeoutMs = 1/);
  rmSync(dir, { recursive: true, force: true });
});
