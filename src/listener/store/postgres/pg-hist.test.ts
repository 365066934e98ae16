import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyHistogram } from '../duration-buckets.js';
import { addPairsText, DENSE_BUCKETS, flushDense, histLiteral } from './pg-hist.js';

const SHIFT = 2 ** 32;
const naive = (m: Map<number, number>): string => `{${[...m.keys()].sort((a, b) => a - b).map((b) => b * SHIFT + Math.min(m.get(b) ?? 0, SHIFT - 1)).join(',')}}`;

test('a histogram literal is the bigint pairs in bucket order, counts capped at 2^32-1, and reads back into the same counts with or without dense sums', () => {
  let seed = 7;
  const rand = (n: number): number => Math.floor(((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
  const maps = Array.from({ length: 300 }, () => new Map(Array.from({ length: 1 + rand(40) }, () => [rand(2000), 1 + rand(100_000)] as [number, number])));
  maps.push(new Map(), new Map([[0, 1]]), new Map([[1, SHIFT - 1]]), new Map([[2_097_151, SHIFT + 5]]), new Map([[232, 999_999_999], [233, 1_000_000_000]]));
  for (const m of maps) {
    assert.equal(histLiteral(m), naive(m));
    const capped = new Map([...m].map(([b, n]) => [b, Math.min(n, SHIFT - 1)]));
    const plain = emptyHistogram();
    addPairsText(plain, histLiteral(m), 3, 1.5);
    assert.deepEqual(new Map([...plain.counts].sort((a, b) => a[0] - b[0])), new Map([...capped].sort((a, b) => a[0] - b[0])));
    assert.equal(plain.total, 3);
    const dense = new Float64Array(DENSE_BUCKETS);
    const h = emptyHistogram();
    addPairsText(h, histLiteral(m), 3, 1.5, dense);
    addPairsText(h, histLiteral(m), 3, 2.5, dense);
    flushDense(h, dense);
    assert.deepEqual(new Map([...h.counts].sort((a, b) => a[0] - b[0])), new Map([...capped].sort((a, b) => a[0] - b[0]).map(([b, n]) => [b, 2 * n])), 'beyond the dense range too');
    assert.equal(h.maxMs, 2.5);
  }
});
