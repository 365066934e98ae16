import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli, spawnDaemon, tempDir } from '../helpers/daemon-process.js';
import { ids, lineFor } from '../helpers/profiles.js';
import { sendEachOnItsOwnConnection } from '../helpers/socket-client.js';
import { spoolIds } from '../helpers/spool-files.js';
import { startTestListener } from '../helpers/test-listener.js';
import { waitFor } from '../helpers/wait-for.js';

function daemonYaml(dir: string, extra: Record<string, unknown>): string {
  return stringify({ socket: join(dir, 'daemon.sock'), dataDir: join(dir, 'data'), health: '127.0.0.1:0', log: { level: 'info' }, forward: { url: null }, ...extra });
}

test('SIGHUP with a valid config rolls the worker onto it: forwarding starts and what was spooled before is delivered', async () => {
  const dir = tempDir();
  const listener = await startTestListener();
  try {
    const daemon = await spawnDaemon(dir);
    const before = ids(50, 'pre');
    await sendEachOnItsOwnConnection(daemon.socketPath, before.map((id) => lineFor(id)), 4);
    const oldWorker = await daemon.workerPid();
    writeFileSync(join(dir, 'daemon.yaml'), daemonYaml(dir, { forward: { url: listener.url, flushIntervalMs: 100 } }));
    daemon.kill('SIGHUP');
    await waitFor(async () => (await daemon.health()).body.supervisor.config_reloads === 1, { what: 'the reload to be applied' });
    const after = ids(50, 'post');
    await sendEachOnItsOwnConnection(daemon.socketPath, after.map((id) => lineFor(id)), 4);
    await waitFor(() => listener.uniqueIds().length === 100, { timeoutMs: 10_000, what: `100 deliveries, got ${listener.uniqueIds().length}` });
    assert.deepEqual(new Set(listener.uniqueIds()), new Set([...before, ...after]));
    const { body } = await daemon.health();
    assert.notEqual(body.stats.worker.pid, oldWorker);
    assert.equal(body.supervisor.restarts_by_reason.reload, 1);
    daemon.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
  } finally {
    await listener.close();
  }
});

test('SIGHUP with an invalid config keeps the running worker and config and logs one clear line', async () => {
  const dir = tempDir();
  const daemon = await spawnDaemon(dir);
  const worker = await daemon.workerPid();
  writeFileSync(join(dir, 'daemon.yaml'), daemonYaml(dir, { buffer: { memoryItems: 0 } }));
  daemon.kill('SIGHUP');
  await waitFor(() => daemon.output().includes('config reload rejected'), { what: 'the rejection log line' });
  const line = daemon.output().split('\n').find((l) => l.includes('config reload rejected')) ?? '';
  assert.match(line, /keeping the current config.*buffer\.memoryItems = 0/);
  const { status, body } = await daemon.health();
  assert.equal(status, 200);
  assert.equal(body.stats.worker.pid, worker);
  assert.equal(body.supervisor.config_reload_failures, 1);
  await sendEachOnItsOwnConnection(daemon.socketPath, ids(20, 'still').map((id) => lineFor(id)), 2);
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  assert.equal(spoolIds(daemon.dataDir).length, 20);
});

test('a worker above maxMemoryMb is replaced and nothing it held is lost', async () => {
  const dir = tempDir();
  // A fresh worker has ~70 MB RSS; 120 MB is crossed once the memory buffer holds large profiles.
  const daemon = await spawnDaemon(dir, { lifecycle: { maxMemoryMb: 120 }, buffer: { memoryItems: 1_000, memoryBytes: 256 * 1024 * 1024 } });
  const first = await daemon.workerPid();
  const all = ids(160, 'big');
  const result = await sendEachOnItsOwnConnection(daemon.socketPath, all.map((id) => lineFor(id, 512 * 1024)), 4);
  assert.deepEqual(result.failures, {});
  const { body } = await waitFor(async () => {
    const r = await daemon.health();
    // Counted when the replacement starts; the new worker answers /health once it has taken over.
    return (r.body.supervisor.restarts_by_reason.max_memory ?? 0) >= 1 && r.body.stats.worker.pid !== first ? r : null;
  }, { timeoutMs: 15_000, what: 'a max_memory replacement' });
  assert.notEqual(body.stats.worker.pid, first);
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  assert.deepEqual(new Set(spoolIds(daemon.dataDir)), new Set(all));
});

test('the supervisor holds the lock: a second daemon on the same spool exits non-zero with a clear message', async () => {
  const dir = tempDir();
  const first = await spawnDaemon(dir);
  assert.equal(Number(readFileSync(join(first.dataDir, 'state', 'daemon.lock'), 'utf8').trim()), first.proc.pid);
  const other = tempDir();
  writeFileSync(join(other, 'daemon.yaml'), stringify({ socket: join(other, 'daemon.sock'), dataDir: first.dataDir, health: '127.0.0.1:0', forward: { url: null } }));
  const second = await runCli(['daemon', '--config', join(other, 'daemon.yaml')]);
  assert.notEqual(second.code, 0);
  assert.match(second.stdout + second.stderr, /another daemon \(pid \d+\) holds .*daemon\.lock/);
  assert.equal((await first.health()).status, 200);
  first.kill('SIGTERM');
  assert.equal(await first.exited, 0);
});
