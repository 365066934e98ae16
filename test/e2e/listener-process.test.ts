import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { spawnListener } from '../helpers/listener-process.js';

const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname; // dist/test/e2e -> dist/src/cli
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'bitville-listener-e2e-'));
  dirs.push(d);
  return d;
}

const auth = { Authorization: 'Bearer secret-token' };
const line = (id: string, ms: number) =>
  JSON.stringify({ correlation_id: id, project: 'shop', timestamp: Date.now() / 1000, elapsed_ms: ms, request: { method: 'GET', uri: `/items/${id.replace(/\D/g, '')}` }, server: { hostname: 'web-9' } });

test('refuses to start without a real token, and starts with --insecure-dev', async () => {
  const dir = tempDir();
  const file = join(dir, 'listener.yaml');
  writeFileSync(file, stringify({ listen: '127.0.0.1:0', dataDir: join(dir, 'data') }));
  const refused = spawnSync(process.execPath, [CLI, 'listener', '--config', file], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(refused.status, 1);
  assert.match(refused.stdout + refused.stderr, /refusing to start without a token/);

  const dev = await spawnListener(tempDir(), {}, ['--insecure-dev']);
  try {
    const res = await fetch(`${dev.url}/v1/ingest`, { method: 'POST', body: `${line('dev-1', 700)}\n` });
    assert.deepEqual(await res.json(), { accepted: 1, duplicates: 0, rejected: [] });
  } finally {
    dev.proc.kill('SIGTERM');
    assert.equal(await dev.exited, 0);
  }
});

test('a listener process stores gzip batches, answers search, statistics, health, ready and metrics, and keeps data across a restart', async () => {
  const dir = tempDir();
  const config = { tokens: { 'secret-token': ['shop'] } };
  const first = await spawnListener(dir, config);
  const batch = gzipSync(Array.from({ length: 500 }, (_, i) => line(`e2e-${i}`, 500 + i)).join('\n'));
  const post = (url: string) => fetch(`${url}/v1/ingest`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip' }, body: batch });
  try {
    assert.deepEqual(await (await post(first.url)).json(), { accepted: 500, duplicates: 0, rejected: [] });
    const health = (await (await fetch(`${first.url}/health`)).json()) as { status: string };
    assert.equal(health.status, 'ok');
    const ready = (await (await fetch(`${first.url}/ready`)).json()) as { status: string; checks: { store: { ok: boolean }; ingest: { accepted: number } } };
    assert.equal(ready.status, 'ready');
    assert.equal(ready.checks.ingest.accepted, 500);
    const metrics = await (await fetch(`${first.url}/metrics`)).text();
    assert.match(metrics, /bitville_listener_ingest_accepted_total\{kind="profile"\} 500/);
    assert.match(metrics, /bitville_listener_process_resident_memory_bytes/);
  } finally {
    first.proc.kill('SIGTERM');
    assert.equal(await first.exited, 0);
  }

  const second = await spawnListener(dir, config);
  try {
    assert.deepEqual(await (await post(second.url)).json(), { accepted: 0, duplicates: 500, rejected: [] });
    const search = (await (await fetch(`${second.url}/api/v1/requests?project=shop&min_ms=900&limit=5`, { headers: auth })).json()) as { total: number; items: { duration_ms: number }[] };
    assert.equal(search.total, 100);
    assert.equal(search.items.length, 5);
    const stats = (await (await fetch(`${second.url}/api/v1/stats/endpoints?project=shop`, { headers: auth })).json()) as { items: { key: string; count: number }[] };
    assert.deepEqual(stats.items.map((s) => [s.key, s.count]), [['GET /items/{id}', 500]]);
  } finally {
    second.proc.kill('SIGTERM');
    assert.equal(await second.exited, 0);
  }
});

test('serves HTTPS when tls.key and tls.cert are given', async (t) => {
  const dir = tempDir();
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { encoding: 'utf8' });
  assert.equal(made.status, 0, `openssl failed: ${made.stderr}`);
  const l = await spawnListener(dir, { tokens: { 'secret-token': ['shop'] }, tls: { key, cert } });
  t.after(() => l.proc.kill('SIGKILL'));
  assert.match(l.url, /^https:\/\//);
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest(`${l.url}/api/v1/projects`, { headers: auth, ca: readFileSync(cert), rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 200);
  const plain = await fetch(l.url.replace('https', 'http') + '/health').then(() => 'answered', () => 'refused');
  assert.equal(plain, 'refused');
});
