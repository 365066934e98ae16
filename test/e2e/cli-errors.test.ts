/**
 * Errors for people (issue 11): a role that cannot start says why in one sentence on stderr,
 * and config mistakes name the key and what was meant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/daemon-process.js';

const envWithout = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.BITVILLE_DEBUG;
  return { ...env, ...extra };
};

test('a listener without a token says so in one sentence on stderr, with no stack trace; the JSON log line follows on stdout', async () => {
  const r = await runCli(['listener', '--data-dir', tempDir(), '--listen', '127.0.0.1:0'], envWithout());
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'bitville-apm listener: refusing to start without a token: set tokens in listener.yaml (the placeholder "change-me" does not count) or pass --insecure-dev\n');
  const line = JSON.parse(r.stdout.trim()) as { level: number; error: string };
  assert.equal(line.level, 60);
  assert.match(line.error, /refusing to start without a token/);
  assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');
});

test('BITVILLE_DEBUG=1 and --debug add the stack trace', async () => {
  for (const [args, env] of [[[], { BITVILLE_DEBUG: '1' }], [['--debug'], {}]] as const) {
    const r = await runCli(['listener', '--data-dir', tempDir(), '--listen', '127.0.0.1:0', ...args], envWithout(env));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^bitville-apm listener: refusing to start without a token.*\nError: refusing[^\n]*\n\s+at /s);
  }
});

test('a daemon whose socket directory is blocked by a file names the path and the reason in one sentence', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'run'), 'a file, not a directory');
  const r = await runCli(['daemon', '--socket', join(dir, 'run', 'sub', 'daemon.sock'), '--data-dir', join(dir, 'data'), '--health', '127.0.0.1:0'], envWithout());
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^bitville-apm daemon: cannot create the directory ${join(dir, 'run')}(/sub)?: .* \\((EEXIST|ENOTDIR)\\)\\n$`));
});

test('config check: an unknown key gets "did you mean", and forward.url must be http(s)', async () => {
  const dir = tempDir();
  const file = join(dir, 'daemon.yaml');
  writeFileSync(file, 'bufer: { memoryItems: 5 }\nforward: { url: "ftp://x" }\n');
  const r = await runCli(['config', 'check', '--config', file], envWithout());
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bufer: unknown key \(did you mean buffer\?\)/);
  assert.match(r.stderr, /forward\.url = "ftp:\/\/x": expected an http:\/\/ or https:\/\/ URL/);
  assert.doesNotMatch(r.stderr, /memoryItems/, 'the file is not printed as the value of the unknown key');
});

test('a pg-agent whose health address is taken says so in one sentence, like the other roles', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    const port = (taken.address() as AddressInfo).port;
    const r = await runCli(['pg-agent', '--database', 'postgres://nobody@127.0.0.1:1/none', '--health', `127.0.0.1:${port}`], envWithout());
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `bitville-apm pg-agent: cannot listen on 127.0.0.1:${port}: the address is already in use (EADDRINUSE)\n`);
  } finally {
    await new Promise<void>((resolve) => taken.close(() => resolve()));
  }
});
