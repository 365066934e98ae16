import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replacementReason } from './replacement-policy.js';

const MB = 1024 * 1024;
const limits = { maxMemoryMb: 60, maxRequests: 1_000, minLifetimeMs: 2_000 };

test('a worker is replaced once it has handled maxRequests messages', () => {
  assert.equal(replacementReason(limits, 10 * MB, 999, 100), null);
  assert.equal(replacementReason(limits, 10 * MB, 1_000, 100), 'max_requests');
});

test('maxRequests 0 never replaces a worker', () => {
  assert.equal(replacementReason({ ...limits, maxRequests: 0 }, 10 * MB, 10_000_000, 100_000), null);
});

test('a worker above maxMemoryMb is replaced, but not before minLifetimeMs', () => {
  assert.equal(replacementReason(limits, 61 * MB, 0, 1_999), null);
  assert.equal(replacementReason(limits, 61 * MB, 0, 2_000), 'max_memory');
  assert.equal(replacementReason(limits, 60 * MB, 0, 5_000), null);
});
