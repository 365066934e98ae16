import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestListener } from '../../../test/helpers/test-listener.js';
import { waitFor } from '../../../test/helpers/wait-for.js';
import { forwardStats, ids, startRig } from '../../../test/helpers/forward-test-rig.js';

test('listener down while items overflow to many spool segments, then up: all delivered in arrival order, spool empty, no restart', async (t) => {
  const listener = await startTestListener();
  await listener.down();
  const rig = await startRig({ url: listener.url, memoryItems: 50 });
  t.after(async () => {
    await rig.stop();
    await listener.close();
  });
  const all = ids(3_000);
  await rig.offer(all);
  await waitFor(() => (forwardStats(rig.forwarder).failures_by_kind.connect ?? 0) >= 5, { what: '5 refused connections' });
  const segments = await rig.spoolFiles();
  assert.ok(segments.length >= 40, `memory overflowed to many segments (got ${segments.length})`);
  assert.equal(rig.forwarder.health().circuitBreaker.state !== 'closed', true, 'the outage opened the circuit');

  await listener.up();
  await waitFor(() => listener.uniqueIds().length === all.length, { timeoutMs: 15_000, what: 'all 3000 ids at the listener' });
  assert.deepEqual(listener.allIds(), all, 'FIFO and nothing twice: no answer was lost');
  await waitFor(async () => (await rig.spoolFiles()).length === 0, { what: 'an empty spool' });
  assert.equal(rig.queue.stats().spoolItems, 0);
  // the last batch's segments are deleted before its delivery is counted: wait for the count
  const stats = await waitFor(() => (forwardStats(rig.forwarder).items_sent === 3_000 ? forwardStats(rig.forwarder) : null), { what: '3,000 counted as sent' });
  assert.equal(stats.backlog_items, 0);
  assert.equal(rig.forwarder.health().circuitBreaker.state, 'closed');
  const prom = await rig.metricsText();
  assert.match(prom, /^bitville_daemon_forward_items_sent_total 3000$/m);
  assert.match(prom, /^bitville_daemon_forward_failures_total\{kind="connect"\} [1-9]\d*$/m);
  assert.match(prom, /^bitville_daemon_forward_failures_total\{kind="http_5xx"\} 0$/m);
});

test('a listener that accepts and never answers: the forwarder times out, backs off, and delivers once it answers', async (t) => {
  const listener = await startTestListener({ mode: { kind: 'hang' } });
  const rig = await startRig({ url: listener.url, forward: { timeoutMs: 200 } });
  t.after(async () => {
    await rig.stop();
    await listener.close();
  });
  const all = ids(250);
  await rig.offer(all);
  await waitFor(() => (forwardStats(rig.forwarder).failures_by_kind.timeout ?? 0) >= 2, { what: 'two request timeouts' });
  assert.equal(listener.received().length, 0);
  const last = forwardStats(rig.forwarder).last_error as { kind: string };
  assert.equal(last.kind, 'timeout');

  listener.setMode({ kind: 'ok' });
  await waitFor(() => listener.uniqueIds().length === all.length, { timeoutMs: 10_000, what: 'all ids after the listener answers again' });
  assert.deepEqual(listener.allIds(), all);
  assert.equal(typeof forwardStats(rig.forwarder).last_success_at, 'number');
});

test('durable mode: a few items below every batch limit are sent once flushIntervalMs has passed', async (t) => {
  const listener = await startTestListener();
  const rig = await startRig({ url: listener.url, mode: 'durable', memoryItems: 100, forward: { flushIntervalMs: 100 } });
  t.after(async () => {
    await rig.stop();
    await listener.close();
  });
  const few = ids(3);
  await rig.offer(few);
  await waitFor(() => listener.uniqueIds().length === 3, { timeoutMs: 3_000, what: '3 items from the open durable segment' });
  assert.deepEqual(listener.allIds(), few);
  await waitFor(async () => (await rig.spoolFiles()).length === 0, { what: 'an empty spool' });
});
