import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKOFF_DEFAULTS, MAX_RETRY_AFTER_MS, backoffMs, halfOpenDelayMs, parseRetryAfter } from './backoff.js';

test('backoff never exceeds the cap, whatever the attempt', () => {
  for (let a = 0; a < 200; a++) assert.ok(backoffMs(a, BACKOFF_DEFAULTS, () => 0.999999) < BACKOFF_DEFAULTS.capMs);
});

test('backoff uses full jitter: from 0 up to base * 2^attempt', () => {
  assert.equal(backoffMs(0, BACKOFF_DEFAULTS, () => 0), 0);
  assert.equal(backoffMs(0, BACKOFF_DEFAULTS, () => 0.5), 250);
  assert.equal(backoffMs(3, BACKOFF_DEFAULTS, () => 0.5), 2_000);
  assert.equal(backoffMs(10, BACKOFF_DEFAULTS, () => 0.5), 30_000); // capped at 60 s before the jitter
});

test('the circuit stays open 1 s, then 2 s, 4 s ... up to retryTimeoutMs', () => {
  const seq = Array.from({ length: 9 }, (_, i) => halfOpenDelayMs(i + 1, 1_000, 60_000));
  assert.deepEqual(seq, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  assert.equal(halfOpenDelayMs(10_000, 1_000, 60_000), 60_000);
});

test('Retry-After is read as seconds or as an HTTP date, and clamped', () => {
  const now = Date.parse('2024-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('3', now), 3_000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Mon, 01 Jan 2024 00:00:10 GMT', now), 10_000);
  assert.equal(parseRetryAfter('Sun, 31 Dec 2023 00:00:00 GMT', now), 0); // in the past: retry now
  assert.equal(parseRetryAfter('999999', now), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});
