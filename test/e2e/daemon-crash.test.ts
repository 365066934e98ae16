import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ids, lineFor } from '../helpers/profiles.js';
import { spawnDaemon, tempDir } from '../helpers/daemon-process.js';
import { sendOverConnections } from '../helpers/socket-client.js';
import { spoolIds, spoolLines } from '../helpers/spool-files.js';
import { waitFor } from '../helpers/wait-for.js';

test('durable mode: 10,000 messages counted as accepted survive SIGKILL, with no duplicates and no partial lines', async () => {
  const dir = tempDir();
  // Segments of up to 20,000 items: all 10,000 sit in the open segment when the kill lands.
  const daemon = await spawnDaemon(dir, { buffer: { mode: 'durable', memoryItems: 20_000 } });
  const all = ids(10_000, 'dur');
  await sendOverConnections(daemon.socketPath, all.map((id) => lineFor(id)), 20);
  await waitFor(async () => (await daemon.accepted()) === 10_000, { what: '10,000 accepted' });
  daemon.kill('SIGKILL');
  assert.equal(await daemon.exited, 'SIGKILL');
  assert.ok(readdirSync(join(daemon.dataDir, 'buffer')).some((n) => n.endsWith('.open')), 'an open segment was left by the kill');

  const again = await spawnDaemon(dir, { buffer: { mode: 'durable', memoryItems: 20_000 } });
  assert.equal((await again.health()).body.stats.ingest.recovered_from_spool, 10_000);
  again.kill('SIGTERM');
  assert.equal(await again.exited, 0);
  const onDisk = spoolIds(daemon.dataDir);
  assert.equal(onDisk.length, 10_000);
  assert.deepEqual(new Set(onDisk), new Set(all));
});

test('durable mode: SIGKILL in the middle of a stream loses nothing that was counted as accepted', async () => {
  const dir = tempDir();
  const daemon = await spawnDaemon(dir, { buffer: { mode: 'durable' } });
  const all = ids(20_000, 'mid');
  const sending = sendOverConnections(daemon.socketPath, all.map((id) => lineFor(id)), 16).catch(() => undefined);
  const countedBeforeKill = await waitFor(async () => {
    const n = await daemon.accepted();
    return n >= 3_000 ? n : 0;
  }, { what: '3,000 accepted' });
  daemon.kill('SIGKILL');
  await daemon.exited;
  await sending; // clients see resets; that is the point

  const again = await spawnDaemon(dir, { buffer: { mode: 'durable' } });
  const health = await again.health();
  assert.equal(health.body.status, 'ok', 'the restarted daemon starts cleanly');
  again.kill('SIGTERM');
  assert.equal(await again.exited, 0);
  const lines = spoolLines(daemon.dataDir);
  for (const line of lines) JSON.parse(line); // no partial lines
  const onDisk = new Set(lines.map((l) => (JSON.parse(l) as { correlation_id: string }).correlation_id));
  assert.equal(onDisk.size, lines.length, 'no duplicates');
  assert.ok(onDisk.size >= countedBeforeKill, `${onDisk.size} on disk < ${countedBeforeKill} counted as accepted before the kill`);
});

test('memory mode: SIGKILL loses at most the memory buffer (memoryItems)', async () => {
  const dir = tempDir();
  const memoryItems = 100;
  const daemon = await spawnDaemon(dir, { buffer: { mode: 'memory', memoryItems } });
  const all = ids(10_000, 'mem');
  await sendOverConnections(daemon.socketPath, all.map((id) => lineFor(id)), 20);
  await waitFor(async () => (await daemon.accepted()) === 10_000, { what: '10,000 accepted' });
  // Quiescent: every accepted item is either in memory or in a finished spool segment (no spill being written).
  const inMemory = await waitFor(async () => {
    const b = (await daemon.health()).body.stats.buffer;
    const quiet = Number(b.memory_spilling_count) === 0 && Number(b.memory_buffer_count) + Number(b.disk_items) === 10_000;
    return quiet ? Number(b.memory_buffer_count) || -1 : 0;
  }, { what: 'all accepted items in memory or spool' });
  daemon.kill('SIGKILL');
  await daemon.exited;

  const onDisk = spoolIds(daemon.dataDir);
  const lost = all.length - onDisk.length;
  assert.ok(lost <= memoryItems, `lost ${lost} > memoryItems ${memoryItems}`);
  assert.equal(lost, Math.max(inMemory, 0), 'exactly what /health said was in memory is gone');
  assert.equal(new Set(onDisk).size, onDisk.length);
});
