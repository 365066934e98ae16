import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addToHistogram, bucketOf, emptyHistogram, percentile, percentileRank } from './duration-buckets.js';

test('percentiles from duration buckets stay within 2.5 % of the exact nearest-rank value', () => {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const values = Array.from({ length: 5000 }, () => Math.exp(random() * 10)); // 1 ms .. 22 s
  const h = emptyHistogram();
  for (const v of values) addToHistogram(h, bucketOf(v), 1, v);
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of [0.5, 0.95, 0.99]) {
    const exact = sorted[Math.ceil(q * sorted.length) - 1] ?? 0;
    const approx = percentile(h, q) ?? 0;
    assert.ok(Math.abs(approx - exact) / exact <= 0.025, `q=${q}: ${approx} vs ${exact}`);
  }
  assert.ok((percentile(h, 1) ?? Infinity) <= Math.max(...values)); // never above the exact max
  assert.ok((percentileRank(h, sorted[2500] ?? 0) ?? 0) > 48 && (percentileRank(h, sorted[2500] ?? 0) ?? 0) < 52);
  assert.equal(percentile(emptyHistogram(), 0.5), null);
  assert.equal(bucketOf(0), 0);
});
