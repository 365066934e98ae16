import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addEncoded, encodeCounts } from './histogram-blob.js';

test('histogram blobs are (uint16 bucket, uint32 count) little-endian pairs and decode back', () => {
  const counts = new Map<number, number>([
    [0, 1],
    [1, 255],
    [142, 256],
    [300, 65_536],
    [567, 16_777_217],
    [65_535, 0xffffffff],
    [9, 2 ** 40], // saturates
  ]);
  const blob = encodeCounts(counts);
  const expected = Buffer.alloc(counts.size * 6);
  let o = 0;
  for (const [b, c] of counts) {
    expected.writeUInt16LE(b, o);
    expected.writeUInt32LE(Math.min(c, 0xffffffff), o + 2);
    o += 6;
  }
  assert.deepEqual(blob, expected);
  const back = new Map<number, number>();
  addEncoded(back, blob);
  assert.deepEqual(back, new Map([...counts].map(([b, c]) => [b, Math.min(c, 0xffffffff)])));
});
