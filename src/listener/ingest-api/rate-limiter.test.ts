import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRateLimiter } from './rate-limiter.js';

test('a token in debt is refused with a Retry-After that pays the debt back, then let in again', () => {
  let t = 0;
  const limiter = createRateLimiter({ linesPerSecond: 100, burstLines: 200 }, () => t);
  assert.deepEqual(limiter.take('a', 500), { kind: 'allowed' }); // one big batch may go into debt
  assert.deepEqual(limiter.take('a', 1), { kind: 'limited', retryAfterS: 4 }); // 300 in debt at 100/s
  assert.deepEqual(limiter.take('b', 1), { kind: 'allowed' }); // buckets are per token
  t = 3_000;
  assert.equal(limiter.take('a', 1).kind, 'limited');
  t = 3_010;
  assert.equal(limiter.take('a', 1).kind, 'allowed');
});
