import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startTestListener } from '../../../test/helpers/test-listener.js';
import { waitFor } from '../../../test/helpers/wait-for.js';
import { ids, startRig } from '../../../test/helpers/forward-test-rig.js';

test('breaker: opens after 5 failures, no traffic while open, one probe after the wait, state survives a restart', async (t) => {
  const listener = await startTestListener({ mode: { kind: 'status', status: 503 } });
  t.after(() => listener.close());
  // Open for 400 ms, then 800 ms after the failed probe.
  const opts = { url: listener.url, circuitBreaker: { failureThreshold: 5, retryTimeoutMs: 5_000 }, forwarder: { breakerInitialMs: 400 } };
  const first = await startRig(opts);
  const all = ids(10);
  await first.offer(all);

  await waitFor(() => first.forwarder.health().circuitBreaker.state === 'open', { what: 'an open circuit' });
  assert.equal(listener.requests(), 5, 'opened after exactly 5 failed sends');
  const health = first.forwarder.health().circuitBreaker;
  assert.equal(health.failure_count, 5);
  assert.equal(health.failure_threshold, 5);
  assert.equal(typeof health.opened_at, 'number');

  await delay(200); // an absence can only be shown by waiting: well inside the 400 ms open period
  assert.equal(listener.requests(), 5, 'no traffic while open');
  await waitFor(() => listener.requests() === 6, { what: 'the half-open probe' });
  await waitFor(() => first.forwarder.health().circuitBreaker.state === 'open', { what: 're-opened after the failed probe' });
  await delay(300); // inside the doubled 800 ms period
  assert.equal(listener.requests(), 6, 'exactly one probe, then quiet again');

  await first.stop(500);
  const saved = JSON.parse(await readFile(join(first.dir, 'state', 'circuit-breaker.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(saved.state, 'open');
  assert.deepEqual(await first.spoolIds(), all, 'the undelivered batch waits in the spool');

  listener.setMode({ kind: 'ok' });
  const second = await startRig({ ...opts, dir: first.dir });
  t.after(() => second.stop());
  assert.equal(second.forwarder.health().circuitBreaker.state, 'open', 'restored open from circuit-breaker.json');
  await delay(100);
  assert.equal(listener.requests(), 6, 'the restored circuit holds traffic back for the rest of its wait');
  await waitFor(() => listener.uniqueIds().length === all.length, { what: 'delivery after the probe' });
  assert.equal(listener.requests(), 7, 'one probe carried the batch');
  assert.deepEqual(listener.allIds(), all);
  await waitFor(() => second.forwarder.health().circuitBreaker.state === 'closed', { what: 'a closed circuit' });
  await second.forwarder.stop(100);
  const after = JSON.parse(await readFile(join(first.dir, 'state', 'circuit-breaker.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(after.state, 'closed');
});
