import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnDaemon, tempDir } from '../helpers/daemon-process.js';
import { spoolIds } from '../helpers/spool-files.js';
import { waitFor } from '../helpers/wait-for.js';
import { steadyLoad, watchHealth } from './daemon-lifecycle-load.js';

test('planned worker restarts under 500 messages/s for 20 s: no refused connection, no message lost, /health answers throughout', async () => {
  const dir = tempDir();
  const daemon = await spawnDaemon(dir, { lifecycle: { maxRequests: 1_000 } });
  const firstWorker = await daemon.workerPid();
  const watch = watchHealth(() => daemon.health());
  const load = steadyLoad(daemon.socketPath, { perSecond: 500, seconds: 20, prefix: 'roll' });
  await load.done;
  await watch.stop();
  const { body } = await daemon.health();
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0, daemon.output().slice(-2_000));

  assert.deepEqual(load.failures, {}, 'no client connection failed');
  assert.equal(load.sent.length, 10_000);
  assert.ok(body.stats.worker.restarts >= 8, `restarts ${body.stats.worker.restarts}: one per 1,000 messages expected`);
  // Finding 9 of issue 9: the limit held within 15 % (it overshot 3-12x when only heartbeats enforced it);
  // what is over it are messages already on open connections when the worker stopped accepting.
  const counts = daemon
    .output()
    .split('\n')
    .filter((l) => l.includes('"replacing the worker"') && l.includes('max_requests'))
    .map((l) => (JSON.parse(l) as { request_count: number }).request_count);
  assert.ok(counts.length >= 8 && counts.every((n) => n <= 1_150), `messages per worker at replacement: ${counts.join(', ')}`);
  assert.notEqual(body.stats.worker.pid, firstWorker);
  assert.deepEqual(watch.bad, [], '/health answered 200 during every replacement');
  assert.ok(watch.answers() > 50);
  const onDisk = spoolIds(daemon.dataDir);
  assert.equal(new Set(onDisk).size, onDisk.length, 'no duplicates');
  assert.deepEqual(new Set(onDisk), new Set(load.sent), 'every message is in the spool after SIGTERM');
});

test('memory mode: SIGKILL of the worker under load: the supervisor restarts it and loses at most the memory buffer plus one spill', async () => {
  const dir = tempDir();
  const memoryItems = 100;
  const daemon = await spawnDaemon(dir, { buffer: { memoryItems } });
  const victim = await daemon.workerPid();
  const load = steadyLoad(daemon.socketPath, { perSecond: 500, seconds: 6, prefix: 'kill' });
  await waitFor(async () => (await daemon.accepted()) >= 1_000, { what: '1,000 accepted before the kill' });
  process.kill(victim, 'SIGKILL');
  const replacement = await waitFor(async () => {
    const r = await daemon.health();
    return r.status === 200 && r.body.stats.worker.pid !== victim ? r.body : null;
  }, { timeoutMs: 5_000, what: 'a new worker after the kill' });
  await load.done;
  const { body } = await daemon.health();
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);

  assert.ok(replacement.stats.worker.restarts >= 1);
  assert.equal(body.supervisor.crashes, 1);
  const onDisk = new Set(spoolIds(daemon.dataDir));
  const lost = load.sent.filter((id) => !onDisk.has(id));
  const failed = Object.values(load.failures).reduce((a, b) => a + b, 0);
  // What the killed worker held in memory, one spill being written, and connections it was reading.
  assert.ok(lost.length + failed <= 2 * memoryItems + 20, `lost ${lost.length}, failed ${failed}`);
});

test('durable mode: SIGKILL of the worker under load loses nothing that was counted as accepted', async () => {
  const dir = tempDir();
  const daemon = await spawnDaemon(dir, { buffer: { mode: 'durable' } });
  const victim = await daemon.workerPid();
  const load = steadyLoad(daemon.socketPath, { perSecond: 500, seconds: 5, prefix: 'dkill' });
  await waitFor(async () => (await daemon.accepted()) >= 800, { what: '800 accepted before the kill' });
  const countedBeforeKill = await daemon.accepted();
  process.kill(victim, 'SIGKILL');
  await waitFor(async () => {
    const r = await daemon.health();
    return r.status === 200 && r.body.stats.worker.pid !== victim;
  }, { timeoutMs: 5_000, what: 'a new worker after the kill' });
  await load.done;
  const countedByReplacement = await waitFor(async () => {
    const { body } = await daemon.health();
    return body.stats.buffer.memory_buffer_count === 0 ? body.stats.ingest.accepted : null;
  }, { what: 'the replacement to have appended everything' });
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);

  const onDisk = spoolIds(daemon.dataDir);
  const unique = new Set(onDisk);
  assert.equal(unique.size, onDisk.length, 'no duplicates');
  assert.ok(unique.size >= countedBeforeKill + countedByReplacement, `${unique.size} on disk < ${countedBeforeKill} + ${countedByReplacement} counted`);
});
