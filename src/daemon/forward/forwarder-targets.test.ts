import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestListener } from '../../../test/helpers/test-listener.js';
import { waitFor } from '../../../test/helpers/wait-for.js';
import { forwardStats, ids, startRig } from '../../../test/helpers/forward-test-rig.js';

test('two listeners in forward.urls share the batches; when one goes down the other takes them all, nothing lost, FIFO kept', async (t) => {
  const a = await startTestListener();
  const b = await startTestListener();
  const rig = await startRig({ url: a.url, urls: [a.url, b.url], memoryItems: 50, forward: { batchItems: 50 } });
  t.after(async () => {
    await rig.stop();
    await a.close();
    await b.close();
  });
  const first = ids(1_000, 'both');
  await rig.offer(first);
  await waitFor(() => a.uniqueIds().length + b.uniqueIds().length === 1_000, { what: 'the first 1,000 delivered' });
  assert.ok(a.requests() >= 5 && b.requests() >= 5, `round robin over both (a ${a.requests()}, b ${b.requests()} batches)`);

  await a.down();
  const second = ids(1_000, 'one');
  await rig.offer(second);
  await waitFor(() => b.uniqueIds().filter((id) => id.startsWith('one-')).length + a.uniqueIds().filter((id) => id.startsWith('one-')).length === 1_000, { what: 'the second 1,000 delivered with a down' });
  const all = [...a.allIds(), ...b.allIds()];
  assert.equal(new Set(all).size, 2_000, 'every id arrived');
  // concurrency 1: batches leave one after another, oldest first, so each listener sees ascending ids
  for (const l of [a, b]) {
    const got = l.allIds();
    assert.deepEqual(got, [...got].sort(), 'each listener received its share in FIFO order');
  }
  const health = rig.forwarder.health();
  assert.equal(health.circuitBreaker.state, 'closed', 'one listener still takes data: the summary is closed');
  assert.equal(health.circuitBreakers.length, 2);
  assert.ok((forwardStats(rig.forwarder).failures_by_kind.connect ?? 0) >= 1, 'the down listener was tried and counted');
});

test('a circuit open for a long retry timeout: the first batch leaves soon after the listener answers /ready again, not after the open period', async (t) => {
  const listener = await startTestListener();
  await listener.down();
  const rig = await startRig({
    url: listener.url,
    circuitBreaker: { failureThreshold: 2, retryTimeoutMs: 60_000 },
    forwarder: { breakerInitialMs: 60_000, backoff: { baseMs: 10, capMs: 50 } },
  });
  t.after(async () => {
    await rig.stop();
    await listener.close();
  });
  await rig.offer(ids(20, 'late'));
  await waitFor(() => rig.forwarder.health().circuitBreaker.state === 'open', { what: 'the circuit open (60 s until its probe)' });
  await listener.up();
  const back = Date.now();
  await waitFor(() => listener.uniqueIds().length === 20, { timeoutMs: 10_000, what: 'delivery after the listener is back' });
  const ms = Date.now() - back;
  assert.ok(ms < 3_000, `delivered ${ms} ms after the listener came back, not after the 60 s open period`);
  assert.ok(listener.readyChecks() >= 1, 'the forwarder asked /ready');
  await waitFor(() => rig.forwarder.health().circuitBreaker.state === 'closed', { what: 'the circuit closed again' });
});

test('a Retry-After is honoured: no /ready shortcut while the listener asked us to wait', async (t) => {
  const listener = await startTestListener({ mode: (n) => (n === 0 ? { kind: 'status', status: 503, retryAfterS: 3 } : { kind: 'ok' }) });
  const rig = await startRig({ url: listener.url });
  t.after(async () => {
    await rig.stop();
    await listener.close();
  });
  const started = Date.now();
  await rig.offer(ids(5, 'ra'));
  await waitFor(() => listener.uniqueIds().length === 5, { timeoutMs: 10_000, what: 'delivery after Retry-After' });
  assert.ok(Date.now() - started >= 2_900, `waited ${Date.now() - started} ms for a 3 s Retry-After`);
});
