import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ids, lineFor } from '../helpers/profiles.js';
import { spawnDaemon, tempDir } from '../helpers/daemon-process.js';
import { sendOverConnections, sendEachOnItsOwnConnection } from '../helpers/socket-client.js';
import { spoolIds, spoolLines } from '../helpers/spool-files.js';
import { waitFor } from '../helpers/wait-for.js';

test('SIGTERM after 10,000 messages over many connections leaves every id on disk exactly once, and a restart replays them in arrival order', async () => {
  const dir = tempDir();
  const daemon = await spawnDaemon(dir);
  const all = ids(10_000);
  // 40 concurrent connections carrying 250 messages each, like long-lived workers.
  const shares = await sendOverConnections(daemon.socketPath, all.map((id) => lineFor(id)), 40);
  await waitFor(async () => (await daemon.accepted()) === 10_000, { what: '10,000 accepted' });
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);

  const onDisk = spoolIds(daemon.dataDir);
  assert.equal(onDisk.length, 10_000);
  assert.equal(new Set(onDisk).size, 10_000, 'no duplicates');
  // Arrival order between connections is the kernel's; within a connection it is the send order.
  const position = new Map(onDisk.map((id, i) => [id, i]));
  for (const share of shares) {
    const positions = share.map((line) => position.get((JSON.parse(line) as { correlation_id: string }).correlation_id) as number);
    assert.deepEqual(positions, [...positions].sort((a, b) => a - b), 'per-connection order kept');
  }

  const again = await spawnDaemon(dir);
  const health = await again.health();
  assert.equal(health.body.stats.ingest.recovered_from_spool, 10_000);
  again.kill('SIGTERM');
  assert.equal(await again.exited, 0);
  assert.deepEqual(spoolIds(daemon.dataDir), onDisk, 'a second run neither loses, duplicates nor reorders');
});

test('messages sent one per connection in sequence are spooled in exactly that order', async () => {
  const dir = tempDir();
  const daemon = await spawnDaemon(dir);
  const all = ids(1_000, 'seq');
  const result = await sendEachOnItsOwnConnection(daemon.socketPath, all.map((id) => lineFor(id, 50)), 1);
  assert.deepEqual(result.failures, {});
  await waitFor(async () => (await daemon.accepted()) === 1_000, { what: '1,000 accepted' });
  daemon.kill('SIGINT');
  assert.equal(await daemon.exited, 0);
  assert.deepEqual(spoolIds(daemon.dataDir), all);
  for (const line of spoolLines(daemon.dataDir)) JSON.parse(line);
});

test('SIGTERM reads what an open connection already sent before flushing', async () => {
  const dir = tempDir();
  const daemon = await spawnDaemon(dir, { shutdown: { drainMs: 3000 } });
  const { createConnection } = await import('node:net');
  const client = createConnection(daemon.socketPath);
  await new Promise<void>((r) => client.once('connect', () => r()));
  client.write(lineFor('open-1'));
  client.write(lineFor('open-2'));
  await waitFor(async () => (await daemon.accepted()) === 2, { what: '2 accepted' });
  daemon.kill('SIGTERM');
  // The client finishes its last message during the drain window, then closes.
  await new Promise((r) => setTimeout(r, 300));
  client.end(lineFor('open-3'));
  assert.equal(await daemon.exited, 0);
  assert.deepEqual(spoolIds(daemon.dataDir), ['open-1', 'open-2', 'open-3']);
});
