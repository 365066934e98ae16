import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestListener } from '../../../test/helpers/test-listener.js';
import { waitFor } from '../../../test/helpers/wait-for.js';
import { forwardStats, ids, startRig } from '../../../test/helpers/forward-test-rig.js';

test('a permanent 400 on one batch: that batch is quarantined with the answer, the rest is delivered', async (t) => {
  const listener = await startTestListener({ mode: (n) => (n === 1 ? { kind: 'status', status: 400, body: '{"error":"bad batch"}' } : { kind: 'ok' }) });
  const rig = await startRig({ url: listener.url, forward: { batchItems: 10 }, memoryItems: 10 });
  t.after(async () => {
    await rig.stop();
    await listener.close();
  });
  const all = ids(50);
  await rig.offer(all);
  await waitFor(() => forwardStats(rig.forwarder).items_sent === 40, { what: '40 delivered items' });
  await waitFor(() => rig.queue.stats().spoolItems + rig.queue.stats().memoryItems === 0, { what: 'an empty queue' });

  const refused = all.slice(10, 20);
  assert.deepEqual(listener.allIds(), [...all.slice(0, 10), ...all.slice(20)], 'the queue moved on, in order');
  const files = await rig.quarantineFiles();
  const ndjson = files.filter((f) => /^forward-\d+-400\.ndjson$/.test(f));
  const response = files.filter((f) => /^forward-\d+-400\.response\.json$/.test(f));
  assert.equal(ndjson.length, 1, `one quarantined batch (files: ${files.join(', ')})`);
  assert.equal(response.length, 1);
  const lines = (await readFile(join(rig.dir, 'quarantine', ndjson[0]!), 'utf8')).trim().split('\n');
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as { correlation_id: string }).correlation_id), refused);
  const answer = JSON.parse(await readFile(join(rig.dir, 'quarantine', response[0]!), 'utf8')) as { status: number; body: string };
  assert.equal(answer.status, 400);
  assert.equal(answer.body, '{"error":"bad batch"}');
  const stats = forwardStats(rig.forwarder);
  assert.equal(stats.quarantined_batches, 1);
  assert.equal(stats.quarantined_items, 10);
  assert.equal(rig.forwarder.health().circuitBreaker.state, 'closed', 'a 4xx is an answer, not an outage');
});

test('stop() with a batch in flight waits for a slow answer within drainMs and acknowledges it', async (t) => {
  const listener = await startTestListener({ mode: { kind: 'slow', delayMs: 300 } });
  const rig = await startRig({ url: listener.url, memoryItems: 5, forward: { timeoutMs: 5_000, flushIntervalMs: 200 } });
  t.after(() => listener.close());
  const all = ids(20);
  await rig.offer(all);
  await waitFor(() => listener.requests() === 1 && rig.queue.stats().inFlightBatches === 1, { what: 'a batch in flight' });
  await rig.stop(2_000);
  assert.equal(listener.requests(), 1, 'stop sends nothing new');
  assert.equal(listener.log()[0]!.answered, true);
  const delivered = listener.allIds();
  assert.ok(delivered.length > 0);
  // The answered batch is acknowledged (its segments deleted); what it did not hold is on disk, once.
  assert.deepEqual([...delivered, ...(await rig.spoolIds())], all);
});

test('stop() with a batch in flight and a listener too slow for drainMs: nothing lost, nothing half-deleted, delivered after restart', async (t) => {
  const listener = await startTestListener({ mode: { kind: 'hang' } });
  t.after(() => listener.close());
  const first = await startRig({ url: listener.url, memoryItems: 5, forward: { timeoutMs: 5_000, flushIntervalMs: 200 } }); // one batch holds everything offered
  const all = ids(23); // four whole segments in flight plus three items in memory
  await first.offer(all);
  // in flight: the four segments; the three items in memory may be taken ahead meanwhile (forwarder.ts)
  await waitFor(() => listener.requests() === 1 && first.queue.stats().inFlightBatches >= 1, { what: 'a batch in flight' });
  const segmentsBefore = await first.spoolFiles();
  const started = Date.now();
  await first.stop(200);
  assert.ok(Date.now() - started < 2_000, 'stop() gave up after drainMs, not after the request timeout');
  const segmentsAfter = await first.spoolFiles();
  for (const name of segmentsBefore) assert.ok(segmentsAfter.includes(name), `${name} kept whole`);
  assert.deepEqual(await first.spoolIds(), all, 'every item is on disk, in order, once');

  listener.setMode({ kind: 'ok' });
  const second = await startRig({ url: listener.url, dir: first.dir });
  t.after(() => second.stop());
  await waitFor(() => listener.uniqueIds().length === all.length, { what: 'delivery after restart' });
  assert.deepEqual(listener.uniqueIds(), all);
  await waitFor(async () => (await second.spoolFiles()).length === 0, { what: 'an empty spool' });
});
