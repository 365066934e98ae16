import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextCrashStreak, restartDelayMs } from './restart-backoff.js';

test('restart delay starts at 100 ms and doubles per consecutive crash', () => {
  assert.deepEqual([1, 2, 3, 4].map((n) => restartDelayMs(n)), [100, 200, 400, 800]);
});

test('restart delay never exceeds 10 s, however many crashes', () => {
  for (let n = 1; n < 200; n++) assert.ok(restartDelayMs(n) <= 10_000);
  assert.equal(restartDelayMs(1_000), 10_000);
});

test('a worker that lived a healthy minute resets the crash streak', () => {
  assert.equal(nextCrashStreak(7, 60_000), 1);
  assert.equal(nextCrashStreak(7, 59_999), 8);
});
