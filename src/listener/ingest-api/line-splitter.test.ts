import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { inflateLines } from './inflate-lines.js';
import { createLineSplitter } from './line-splitter.js';

function split(chunks: string[], max: number): (string | null)[] {
  const out: (string | null)[] = [];
  const s = createLineSplitter(max, (line, n) => (out[n - 1] = line === null ? null : line.toString()));
  for (const c of chunks) s.push(Buffer.from(c));
  s.end();
  return out;
}

test('lines cut across chunks come out whole and numbered by position, blank ones included', () => {
  assert.deepEqual(split(['ab', 'c\nd', 'e\n\nf'], 10), ['abc', 'de', '', 'f']);
  assert.deepEqual(split(['abc\n'], 10), ['abc']);
});

test('a line over the limit is reported as null at its position and the lines after it are unharmed', () => {
  assert.deepEqual(split(['0123456789', '\nok\n'], 10), ['0123456789', 'ok']);
  assert.deepEqual(split(['01234', '56789', 'X', 'YZ\nok'], 10), [null, 'ok']);
  assert.deepEqual(split(['01234567890\nok'], 10), [null, 'ok']);
  assert.deepEqual(split(['ok\n', '0123456789ABC'], 10), ['ok', null]);
});

test('a gzip body inflating to one 24 MiB line is rejected line by line without assembling it', async () => {
  const big = Buffer.alloc(24 * 1024 * 1024, 0x61);
  const body = gzipSync(Buffer.concat([Buffer.from('{"a":1}\n'), big, Buffer.from('\n{"b":2}\n')]));
  const seen: (string | null)[] = [];
  let longest = 0;
  const outcome = await inflateLines(body, 64 * 1024 * 1024, 1024 * 1024, (line) => {
    seen.push(line === null ? null : line.toString());
    longest = Math.max(longest, line?.length ?? 0);
  });
  assert.deepEqual(outcome, { kind: 'ok' });
  assert.deepEqual(seen, ['{"a":1}', null, '{"b":2}']);
  assert.ok(longest <= 1024 * 1024);
});

test('inflation stops with too_large once the output passes the body limit, and bad gzip is bad_encoding', async () => {
  const body = gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x61));
  assert.deepEqual(await inflateLines(body, 1024 * 1024, 1024, () => undefined), { kind: 'too_large' });
  assert.equal((await inflateLines(Buffer.from('not gzip'), 1024, 1024, () => undefined)).kind, 'bad_encoding');
});
