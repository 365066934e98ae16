import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { ids, lineFor } from '../helpers/profiles.js';
import { spawnDaemon, tempDir } from '../helpers/daemon-process.js';
import { sendEachOnItsOwnConnection, sendOnce } from '../helpers/socket-client.js';
import { spoolIds } from '../helpers/spool-files.js';
import { waitFor } from '../helpers/wait-for.js';

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path, () => resolve(s));
    s.on('error', reject);
  });
}

test('hostile clients (garbage, a 50 MB line, 2,000 idle connections, a 1-byte/s sender) do not hurt a well-behaved one', async () => {
  const daemon = await spawnDaemon(tempDir(), { ingest: { idleTimeoutMs: 60_000 } });
  const idle: Socket[] = [];
  try {
    for (let i = 0; i < 2_000; i++) idle.push(await connect(daemon.socketPath));
    await waitFor(async () => (await daemon.metricsText()).includes('bitville_daemon_ingest_connections_active 2000'), { what: '2,000 open connections' });

    const trickle = await connect(daemon.socketPath);
    trickle.on('error', () => undefined);
    const trickleTimer = setInterval(() => trickle.write('{'), 1_000);

    // 50 MB without a newline, written as fast as the daemon reads it.
    const flood = await connect(daemon.socketPath);
    flood.on('error', () => undefined);
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    for (let i = 0; i < 50; i++) if (!flood.write(chunk)) await new Promise((r) => flood.once('drain', r));

    await sendOnce(daemon.socketPath, '{"correlation_id": "x", oops\n');
    await sendOnce(daemon.socketPath, randomBytes(64 * 1024));
    await sendOnce(daemon.socketPath, Buffer.concat([randomBytes(1000), Buffer.from('\n'), randomBytes(1000), Buffer.from('\n')]));

    const good = ids(1_000, 'good');
    const result = await sendEachOnItsOwnConnection(daemon.socketPath, good.map((id) => lineFor(id)), 8);
    assert.deepEqual(result.failures, {}, 'no well-behaved connection failed');
    await waitFor(async () => (await daemon.accepted()) === 1_000, { what: 'all good messages accepted' });

    flood.end(Buffer.from('\n'));
    const { body } = await daemon.health();
    assert.equal(body.status, 'ok');
    assert.ok(body.stats.worker.memory_usage_mb < 250, `RSS ${body.stats.worker.memory_usage_mb} MB stays bounded`);
    const rejected = body.stats.ingest.rejected_by_reason;
    assert.ok((rejected.oversized ?? 0) >= 1, 'the 50 MB line is rejected as oversized');
    assert.ok((rejected.invalid_json ?? 0) >= 3, 'garbage is rejected as invalid_json');
    clearInterval(trickleTimer);
    trickle.destroy();
    flood.destroy();
  } finally {
    for (const s of idle) s.destroy();
  }
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  const onDisk = spoolIds(daemon.dataDir);
  assert.deepEqual(onDisk.filter((id) => id.startsWith('good-')).sort(), ids(1_000, 'good'));
});

test('an idle connection is closed after idleTimeoutMs and counted; its cut-off line is rejected as incomplete', async () => {
  const daemon = await spawnDaemon(tempDir(), { ingest: { idleTimeoutMs: 300 } });
  const s = await connect(daemon.socketPath);
  s.write('{"correlation_id":"half');
  const closed = await new Promise<boolean>((resolve) => s.on('close', () => resolve(true)));
  assert.ok(closed);
  const { body } = await waitFor(async () => {
    const h = await daemon.health();
    return h.body.stats.ingest.connections_closed_by_reason.idle_timeout === 1 ? h : null;
  }, { what: 'idle_timeout counted' });
  assert.equal(body.stats.ingest.rejected_by_reason.incomplete, 1);
  daemon.kill('SIGTERM');
  await daemon.exited;
});

test('a flood of 20,000 one-message connections from 16 concurrent senders gets zero refusals', async () => {
  const daemon = await spawnDaemon(tempDir());
  const all = ids(20_000, 'flood');
  const result = await sendEachOnItsOwnConnection(daemon.socketPath, all.map((id) => lineFor(id, 50)), 16);
  assert.deepEqual(result.failures, {});
  await waitFor(async () => (await daemon.accepted()) === 20_000, { what: '20,000 accepted', timeoutMs: 20_000 });
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  assert.equal(new Set(spoolIds(daemon.dataDir)).size, 20_000);
});
