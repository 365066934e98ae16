import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startTestListener, type ListenerMode } from '../../../test/helpers/test-listener.js';
import { waitFor } from '../../../test/helpers/wait-for.js';
import { forwardStats, ids, startRig } from '../../../test/helpers/forward-test-rig.js';

// One request in eight of each kind. The request timeout is 250 ms: `slow` 40 ms is answered,
// `slow` 600 ms is stored but its answer is lost, like reset_after_store.
const CYCLE: ListenerMode[] = [
  { kind: 'ok' },
  { kind: 'status', status: 503 },
  { kind: 'reset_after_store' },
  { kind: 'slow', delayMs: 40 },
  { kind: 'reset' },
  { kind: 'slow', delayMs: 600 },
  { kind: 'status', status: 429, retryAfterS: 0 },
  { kind: 'hang' },
];

/** The cycling listener and a rig forwarding to it, both stopped after the test. */
async function flappingRig(t: TestContext, concurrency: number) {
  const listener = await startTestListener({ mode: (n) => CYCLE[n % CYCLE.length] as ListenerMode });
  const rig = await startRig({
    url: listener.url,
    memoryItems: 100,
    forward: { batchItems: 200, timeoutMs: 250, concurrency },
    circuitBreaker: { failureThreshold: 5, retryTimeoutMs: 200 },
  });
  t.after(async () => {
    await rig.stop();
    await listener.close();
  });
  return { listener, rig };
}

test('flapping listener (503, 429, resets, timeouts, slow answers): every id delivered, duplicates only where the answer was lost', async (t) => {
  const { listener, rig } = await flappingRig(t, 1);
  const all = ids(4_000);
  await rig.offer(all);
  await waitFor(() => listener.uniqueIds().length === all.length, { timeoutMs: 25_000, what: 'every id at least once' });
  await waitFor(() => rig.queue.stats().spoolItems + rig.queue.stats().memoryItems === 0, { what: 'an empty queue' });

  assert.deepEqual(listener.uniqueIds(), all, 'first deliveries in arrival order');
  const answeredTimes = new Map<string, number>();
  for (const req of listener.log()) {
    for (const it of req.items) {
      const id = String(it.correlation_id);
      if (req.answered) answeredTimes.set(id, (answeredTimes.get(id) ?? 0) + 1);
    }
  }
  for (const id of all) assert.equal(answeredTimes.get(id), 1, `${id} acknowledged exactly once; any other copy came from a lost answer`);
  const duplicates = listener.allIds().length - all.length;
  const lostStored = listener.log().filter((r) => !r.answered).reduce((n, r) => n + r.items.length, 0);
  assert.equal(duplicates, lostStored, 'every duplicate is an item of a batch whose answer was lost');
  assert.ok(duplicates > 0, 'the scenario did lose some answers');

  const kinds = forwardStats(rig.forwarder).failures_by_kind;
  for (const kind of ['http_5xx', 'reset', 'timeout']) assert.ok((kinds[kind] ?? 0) > 0, `counted ${kind}`);
});

test('forward.concurrency 2 against the same flapping listener: every id acknowledged exactly once, the queue empties, only arrival order is given up', async (t) => {
  const { listener, rig } = await flappingRig(t, 2);
  const all = ids(4_000);
  await rig.offer(all);
  await waitFor(() => listener.uniqueIds().length === all.length, { timeoutMs: 25_000, what: 'every id at least once' });
  await waitFor(() => rig.queue.stats().spoolItems + rig.queue.stats().memoryItems === 0 && rig.queue.stats().inFlightBatches === 0, { what: 'an empty queue' });
  assert.deepEqual([...listener.uniqueIds()].sort(), [...all].sort());
  const answered = new Map<string, number>();
  for (const req of listener.log()) if (req.answered) for (const it of req.items) answered.set(String(it.correlation_id), (answered.get(String(it.correlation_id)) ?? 0) + 1);
  for (const id of all) assert.equal(answered.get(id), 1, `${id} acknowledged exactly once`);
});
