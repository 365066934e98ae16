import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAckTracker } from './ack-tracker.js';

/** A tracker whose confirmations the test answers by hand; `written` holds the replies in order. */
function tracker() {
  const written: string[] = [];
  const confirms: Array<(ok: boolean) => void> = [];
  let unsafe = 0;
  const acks = createAckTracker(
    (reply) => written.push(reply.toString().trim()),
    () => unsafe++,
    (cb) => confirms.push(cb),
  );
  /** Answers the i-th confirmation the tracker asked for. */
  const answer = (i: number, ok: boolean): void => (confirms[i] as (ok: boolean) => void)(ok);
  return { acks, written, confirms, answer, unsafeCount: () => unsafe };
}

test('an answer covering accepted messages waits for the confirmation (the fdatasync of durable mode)', () => {
  const t = tracker();
  const span = t.acks.begin();
  t.acks.request('"t1"');
  t.acks.settle(span, 'accepted');
  assert.deepEqual(t.written, [], 'no answer before the messages are durable');
  assert.equal(t.confirms.length, 1);
  assert.equal(t.acks.pending(), true);
  t.answer(0, true);
  assert.deepEqual(t.written.map((w) => JSON.parse(w) as unknown), [{ ack: 't1', accepted: 1, rejected: 0, dropped: 0 }]);
  assert.equal(t.acks.pending(), false);
});

test('a failed confirmation is never answered: the connection is closed so the client keeps its copy', () => {
  const t = tracker();
  const span = t.acks.begin();
  t.acks.settle(span, 'accepted');
  t.acks.request('1');
  t.answer(0, false);
  assert.deepEqual(t.written, []);
  assert.equal(t.unsafeCount(), 1);
});

test('answers stay in request order while an earlier one waits for its confirmation; nothing accepted needs none', () => {
  const t = tracker();
  const a = t.acks.begin();
  t.acks.request('1');
  const b = t.acks.begin();
  t.acks.request('2');
  t.acks.settle(b, 'rejected');
  t.acks.settle(a, 'accepted');
  assert.deepEqual(t.written, [], 'the second waits behind the first');
  t.answer(0, true);
  assert.deepEqual(t.written.map((w) => (JSON.parse(w) as { ack: number }).ack), [1, 2]);
  assert.equal(t.confirms.length, 1, 'a span with only rejected messages asks for no fdatasync');
});
