import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_JSON_DEPTH, withinDepth } from './json-limits.js';

const nested = (depth: number, open = '[', close = ']') => Buffer.from(open.repeat(depth) + close.repeat(depth));

test('accepts nesting up to the limit and refuses one level more', () => {
  assert.equal(withinDepth(nested(MAX_JSON_DEPTH)), true);
  assert.equal(withinDepth(nested(MAX_JSON_DEPTH + 1)), false);
  assert.equal(withinDepth(Buffer.from('{"a":'.repeat(65) + '1' + '}'.repeat(65))), false);
});

test('refuses 100,000 nested arrays without recursion', () => {
  assert.equal(withinDepth(nested(100_000)), false);
});

test('brackets inside strings do not count, escaped quotes do not end the string', () => {
  const inside = JSON.stringify({ s: '['.repeat(1000) + '\\"' + '{'.repeat(1000) });
  assert.equal(withinDepth(Buffer.from(inside)), true);
  // "a\\" ends at its second quote: the brackets after it are real
  assert.equal(withinDepth(Buffer.from('{"k":"a\\\\",' + '"n":' + '['.repeat(70) + ']'.repeat(70) + '}')), false);
});

test('a flat real-size profile passes, sibling structures do not add up', () => {
  const siblings = JSON.stringify({ a: Array.from({ length: 500 }, (_, i) => ({ i, v: [i, [i]] })) });
  assert.equal(withinDepth(Buffer.from(siblings)), true);
});

test('works on a Uint8Array view at an offset', () => {
  const backing = Buffer.from('xx[[]]yy');
  assert.equal(withinDepth(new Uint8Array(backing.buffer, backing.byteOffset + 2, 4), 1), false);
  assert.equal(withinDepth(new Uint8Array(backing.buffer, backing.byteOffset + 2, 4), 2), true);
});
