import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { startTestListener, type ModeChooser } from '../../../test/helpers/test-listener.js';
import { waitFor } from '../../../test/helpers/wait-for.js';
import { forwardStats, ids, startRig, type RigOptions } from '../../../test/helpers/forward-test-rig.js';

// Each offer in its own event-loop turn, as ingest offers them (one socket read each).
async function offerOneByOne(rig: { offer(ids: readonly string[]): Promise<void> }, list: readonly string[]): Promise<void> {
  for (const id of list) {
    await rig.offer([id]);
    await nextTurn();
  }
}

/** A test listener in `mode` and a memory-mode rig of 10-item buffers sending to it, both stopped after the test. */
async function lookaheadRig(t: TestContext, mode: ModeChooser, forward: RigOptions['forward']) {
  const listener = await startTestListener({ mode });
  const rig = await startRig({ url: listener.url, memoryItems: 10, forward });
  t.after(async () => {
    await rig.stop();
    await listener.close();
  });
  return { listener, rig };
}

test('while a batch is in flight, the next full memory buffer waits in the forwarder instead of going to disk', async (t) => {
  const { listener, rig } = await lookaheadRig(t, { kind: 'slow', delayMs: 400 }, { timeoutMs: 5_000, lingerMs: 1_000 });
  const all = ids(21);
  await offerOneByOne(rig, all.slice(0, 10)); // a full buffer: taken at once
  await waitFor(() => listener.requests() === 1, { what: 'the first batch at the listener, unanswered' });
  await offerOneByOne(rig, all.slice(10)); // full again, then one more: without a look-ahead that one spills the ten
  assert.equal(listener.log()[0]?.answered, false, 'the first batch was still in flight');
  assert.match(await rig.metricsText(), /^bitville_daemon_spool_segments_written_total 0$/m, 'nothing went to disk');
  assert.equal(rig.queue.stats().memoryItems, 1, 'the buffer holds only the last item; ten wait in the forwarder');

  await waitFor(() => listener.uniqueIds().length === all.length, { timeoutMs: 5_000, what: 'all 21 delivered' });
  assert.deepEqual(listener.allIds(), all, 'in arrival order, each once');
  assert.deepEqual(
    listener.log().map((r) => r.items.length),
    [10, 10, 1],
    'the batch taken ahead left as it was taken',
  );
  assert.equal((await rig.spoolFiles()).length, 0);
});

test('a send that fails while the next batch waits ahead: the one ahead goes back first, so delivery stays FIFO', async (t) => {
  const { listener, rig } = await lookaheadRig(t, (n) => (n === 0 ? { kind: 'hang' } : { kind: 'ok' }), { timeoutMs: 300 });
  const all = ids(30);
  await offerOneByOne(rig, all.slice(0, 10));
  await waitFor(() => listener.requests() === 1, { what: 'the first batch at a listener that never answers' });
  await offerOneByOne(rig, all.slice(10, 20)); // taken ahead while the first one hangs
  await waitFor(() => (forwardStats(rig.forwarder).failures_by_kind.timeout ?? 0) === 1, { what: 'the first send timed out' });
  await offerOneByOne(rig, all.slice(20));
  await waitFor(() => listener.uniqueIds().length === all.length, { timeoutMs: 5_000, what: 'all 30 delivered after the timeout' });
  assert.deepEqual(listener.allIds(), all, 'the timed-out batch and the one ahead of it went back in order');
  assert.equal(rig.queue.stats().memoryItems, 0);
});

test('stop with one batch in flight and one ahead: both reach the spool, oldest first, nothing lost', async (t) => {
  const listener = await startTestListener({ mode: { kind: 'hang' } });
  const rig = await startRig({ url: listener.url, memoryItems: 10, forward: { timeoutMs: 10_000 } });
  t.after(() => listener.close());
  const all = ids(25);
  await offerOneByOne(rig, all.slice(0, 10));
  await waitFor(() => listener.requests() === 1, { what: 'the first batch in flight' });
  await offerOneByOne(rig, all.slice(10)); // ten taken ahead, five in memory
  await rig.stop(100); // the answer never comes: cut, released, flushed
  assert.deepEqual(await rig.spoolIds(), all, 'in flight, ahead and memory: all on disk in arrival order');
  assert.equal(listener.uniqueIds().length, 0);
});

test('a backlog leaves one whole batch at a time: nothing is taken ahead while more than a memory buffer waits', async (t) => {
  const { listener, rig } = await lookaheadRig(t, { kind: 'slow', delayMs: 300 }, { batchItems: 20, timeoutMs: 5_000 });
  const all = ids(60);
  await rig.offer(all); // in one turn: memory overflows to 10-item segments behind the first batch
  await waitFor(() => listener.requests() === 1, { what: 'the first batch in flight' });
  await new Promise((r) => setTimeout(r, 100)); // a look-ahead would have taken the next batch by now
  assert.ok(Number(forwardStats(rig.forwarder).backlog_items) > 10, 'a backlog waits');
  assert.equal(rig.queue.stats().inFlightBatches, 1, 'only the batch on the wire is out of the queue');
  await waitFor(() => listener.uniqueIds().length === all.length, { timeoutMs: 5_000, what: 'all 60 delivered' });
  assert.deepEqual(listener.allIds(), all);
  assert.ok(listener.log().every((r) => r.items.length >= 10), 'whole batches, never a lone remainder');
});
