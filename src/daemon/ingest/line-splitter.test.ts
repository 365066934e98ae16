import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLineSplitter } from './line-splitter.js';

function collect(maxBytes = 100) {
  const lines: string[] = [];
  const oversized: string[] = [];
  const s = createLineSplitter({ maxBytes, onLine: (l) => void lines.push(l.toString()), onOversized: (b) => oversized.push(b.toString()) });
  return { s, lines, oversized };
}

test('splits lines across arbitrary chunk boundaries', () => {
  const { s, lines } = collect();
  for (const part of ['{"a":', '1}\n{"b"', ':2}\n', '\n{"c":3}']) s.push(Buffer.from(part));
  s.end();
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
});

test('an oversized line is reported once, skipped to its newline, and the next line survives', () => {
  const { s, lines, oversized } = collect(10);
  s.push(Buffer.from('x'.repeat(8)));
  s.push(Buffer.from('y'.repeat(8)));
  s.push(Buffer.from('z'.repeat(50)));
  assert.equal(s.buffered(), 0, 'an endless line must not be held in memory');
  s.push(Buffer.from('zz\n{"ok":1}\n'));
  assert.deepEqual(lines, ['{"ok":1}']);
  assert.equal(oversized.length, 1);
});

test('an oversized line inside one chunk is rejected without losing its neighbours', () => {
  const { s, lines, oversized } = collect(10);
  s.push(Buffer.from(`{"a":1}\n${'q'.repeat(40)}\n{"b":2}\n`));
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}']);
  assert.equal(oversized.length, 1);
});

test('onLine can stop the split; resume continues at the next line, and an end while stopped waits its turn', () => {
  const lines: string[] = [];
  let allow = 1;
  const s = createLineSplitter({
    maxBytes: 100,
    onLine: (l) => {
      lines.push(l.toString());
      return --allow > 0;
    },
    onOversized: () => undefined,
  });
  s.push(Buffer.from('{"a":1}\n{"b":2}\n{"c":'));
  assert.deepEqual(lines, ['{"a":1}']);
  assert.equal(s.stopped(), true);
  s.push(Buffer.from('3}\n{"d":4}'));
  s.end();
  assert.deepEqual(lines, ['{"a":1}'], 'nothing more is split while stopped');
  allow = 2;
  assert.equal(s.resume(), false, 'stops again after two more lines');
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
  allow = 10;
  assert.equal(s.resume(), true);
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}', '{"d":4}'], 'the unterminated last line counts at the end');
});

test('takePartial splits what waits without stopping and returns the unfinished line', () => {
  const lines: string[] = [];
  const s = createLineSplitter({
    maxBytes: 100,
    onLine: (l) => {
      lines.push(l.toString());
      return false;
    },
    onOversized: () => undefined,
  });
  s.push(Buffer.from('{"a":1}\n{"b":2}\n{"c":3}\n{"d"'));
  assert.deepEqual(lines, ['{"a":1}']);
  assert.equal(s.takePartial()?.toString(), '{"d"');
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
});
