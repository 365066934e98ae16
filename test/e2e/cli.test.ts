import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, runCli, spawnDaemon, tempDir } from '../helpers/daemon-process.js';
import { ids, lineFor } from '../helpers/profiles.js';
import { sendOverConnections } from '../helpers/socket-client.js';
import { waitFor } from '../helpers/wait-for.js';

test('`bitville-apm up` starts a listener and a daemon; `send` and `status` work against it with no paths typed', async () => {
  // The README's commands, run as a newcomer would (npx from the project), with free ports and a temp dir.
  const cwd = tempDir('bitville-up-');
  const upDir = join(cwd, '.bitville');
  // `up` runs as node directly so the test can signal it (npx puts a shell in between).
  const up = spawn(process.execPath, [CLI, 'up', '--dir', upDir, '--listen', '127.0.0.1:0', '--health', '127.0.0.1:0'], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  up.stdout.on('data', (c: Buffer) => (out += c.toString()));
  up.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => up.on('exit', (code) => r(code)));
  try {
    await waitFor(() => out.includes('Bitville APM is up.'), { timeoutMs: 30_000, what: `up to print its summary; output so far:\n${out}` });
    const info = JSON.parse(readFileSync(join(cwd, '.bitville', 'up.json'), 'utf8')) as { socket: string; listenerUrl: string; token: string; health: string };
    assert.match(out, /daemon socket: .*daemon\.sock/);

    const sent = await runNpx(['send', '--up-dir', upDir, '--count', '3', '--project', 'smoke']);
    assert.equal(sent.code, 0, sent.stderr);
    const sentIds = sent.stdout.split('\n').map((l) => l.trim()).filter((l) => /^[0-9a-f-]{36}$/.test(l));
    assert.equal(sentIds.length, 3);

    const stored = await waitFor(async () => {
      const res = await fetch(`${info.listenerUrl}/api/v1/requests?project=smoke`, { headers: { authorization: `Bearer ${info.token}` } });
      const body = (await res.json()) as { items: Array<{ correlation_id: string }> };
      return body.items.length === 3 ? body.items : null;
    }, { timeoutMs: 15_000, what: 'the 3 profiles in the listener' });
    assert.deepEqual(stored.map((i) => i.correlation_id).sort(), [...sentIds].sort());

    const status = await runNpx(['status', '--up-dir', upDir]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /status: {3}ok/);
    assert.match(status.stdout, /accepted 3/);
    assert.match(status.stdout, /3 items in \d+ batches/);
  } finally {
    up.kill('SIGTERM');
  }
  assert.equal(await exited, 0, out);
});

test('`spool ls` lists segments oldest first and `spool inspect` shows their items', async () => {
  const daemon = await spawnDaemon(tempDir(), { buffer: { memoryItems: 10 } });
  await sendOverConnections(daemon.socketPath, ids(25, 'sp').map((id) => lineFor(id)), 1);
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  const ls = await runCli(['spool', 'ls', '--data-dir', daemon.dataDir, '--json']);
  assert.equal(ls.code, 0, ls.stderr);
  const rows = JSON.parse(ls.stdout) as Array<{ name: string; items: number }>;
  assert.ok(rows.length >= 2, 'memory overflowed into several segments');
  assert.equal(rows.reduce((n, r) => n + r.items, 0), 25);
  assert.deepEqual(rows.map((r) => r.name), [...rows.map((r) => r.name)].sort());
  const text = await runCli(['spool', 'ls', '--data-dir', daemon.dataDir]);
  assert.match(text.stdout, new RegExp(`${rows.length} segment\\(s\\), 25 item\\(s\\)`));
  const inspect = await runCli(['spool', 'inspect', '--data-dir', daemon.dataDir, '--limit', '3']);
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.match(inspect.stdout, new RegExp(`${rows[0]?.items} item\\(s\\)`));
  assert.match(inspect.stdout, /#0 sp-000000 {2}project=shop {2}GET \/orders\/sp-000000/);
  assert.match(inspect.stdout, new RegExp(`${(rows[0]?.items ?? 0) - 3} more`));
});

test('`config check` accepts a valid file and lists every problem of a bad one with exit code 2', async () => {
  const dir = tempDir();
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'buffer: { mode: durable }\nforward: { url: "http://10.0.0.1:8443", token: "t" }\n');
  const ok = await runCli(['config', 'check', '--config', good]);
  assert.equal(ok.code, 0, ok.stderr);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'buffer: { memoryItems: 0 }\nspool: { whenFull: block }\nsurprise: true\n');
  const res = await runCli(['config', 'check', '--config', bad]);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /buffer\.memoryItems = 0/);
  assert.match(res.stderr, /spool\.whenFull = "block"/);
  assert.match(res.stderr, /surprise/);
  const printed = await runCli(['config', 'print', '--config', good], { ...process.env, BITVILLE_BUFFER_MEMORY_ITEMS: '42' });
  assert.match(printed.stdout, /memoryItems: 42/);
  assert.match(printed.stdout, /mode: durable/);
  const listener = await runCli(['config', 'check', '--role', 'listener']);
  assert.equal(listener.code, 0);
});

const PROJECT = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/e2e -> project root

function runNpx(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('npx', ['bitville-apm', ...args], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
