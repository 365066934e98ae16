import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { unpackPayload, ENCODING_CODE } from '../store/payload-codec.js';
import { variantProfile } from '../../../test/helpers/listener-harness.js';
import { createParsePool } from './parse-pool.js';
import { prepareLines, type PreparedLine } from './prepare-lines.js';

function body(batch: number): { text: string; lines: string[] } {
  const lines: string[] = [];
  for (let i = 0; i < 60; i++) {
    if (i % 17 === 5) lines.push('{"broken":');
    else if (i % 19 === 7) lines.push('');
    else if (i % 23 === 11) lines.push('[1,2]');
    else lines.push(JSON.stringify({ ...variantProfile({ id: `b${batch}-${i}`, uri: `/b/${batch}/${i}`, ms: i }), pad: 'y'.repeat(i * 40), noise: randomBytes(400).toString('hex') }));
  }
  return { text: lines.join('\n'), lines };
}

/** What a line turns into, with its body decoded, so worker and inline results compare directly. */
function view(l: PreparedLine): unknown {
  if (l.kind === 'rejected') return l;
  const { body, bodyEncoding, ...fields } = l.record;
  return { line: l.line, fields, body: unpackPayload(ENCODING_CODE[bodyEncoding], body).toString('utf8') };
}

test('the parse pool answers each batch with its own lines, in body order, exactly as preparing inline does', async () => {
  const pool = createParsePool({ workers: 2 });
  try {
    const bodies = Array.from({ length: 8 }, (_, b) => body(b));
    // All in flight at once, over two workers: answers must not cross between batches.
    const outcomes = await Promise.all(bodies.map((b) => pool.prepare(Buffer.from(b.text))));
    outcomes.forEach((o, b) => {
      assert.equal(o.kind, 'ok');
      if (o.kind !== 'ok') return;
      const inline = prepareLines(Buffer.from((bodies[b] as { text: string }).text));
      assert.deepEqual(o.prepared.lines.map(view), inline.lines.map(view));
      assert.deepEqual(o.prepared.lines.map((l) => l.line), inline.lines.map((l) => l.line));
      const lines = (bodies[b] as { lines: string[] }).lines;
      for (const l of o.prepared.lines) {
        if (l.kind === 'record') assert.equal((view(l) as { body: string }).body, lines[l.line - 1], `batch ${b} line ${l.line} body`);
      }
      assert.ok(o.prepared.lines.some((l) => l.kind === 'rejected' && l.error === 'invalid_json'));
      assert.ok(o.prepared.lines.some((l) => l.kind === 'rejected' && l.error === 'not_object'));
      assert.ok(o.prepared.lines.some((l) => l.kind === 'record' && l.record.bodyEncoding === 'brotli'), 'big payloads are compressed');
    });
    assert.equal(pool.stats().inFlight, 0);
  } finally {
    await pool.stop();
  }
});

test('a stopped parse pool refuses work instead of hanging', async () => {
  const pool = createParsePool({ workers: 1 });
  await pool.stop();
  assert.deepEqual(await pool.prepare(Buffer.from('{}')), { kind: 'failed', message: 'parse pool stopped' });
});

test('a large batch split across the workers keeps every line number and the line order', async () => {
  const pool = createParsePool({ workers: 2 });
  try {
    const parts = Array.from({ length: 6 }, (_, b) => body(b).text);
    const text = `${parts.join('\n\n')}\n`; // > 256 KiB, blank lines at the seams
    assert.ok(text.length > 256 * 1024);
    const o = await pool.prepare(Buffer.from(text));
    assert.equal(o.kind, 'ok');
    if (o.kind !== 'ok') return;
    const inline = prepareLines(Buffer.from(text));
    assert.deepEqual(o.prepared.lines.map(view), inline.lines.map(view));
    assert.deepEqual(o.prepared.rollup, inline.rollup, 'the chunks\' rollups merge into the whole body\'s');
  } finally {
    await pool.stop();
  }
});

test('a gzip body is gunzipped in the worker (or inline without workers), with the same lines and rollup', async () => {
  const text = `${Array.from({ length: 4 }, (_, b) => body(b).text).join('\n')}\n`;
  const inline = prepareLines(Buffer.from(text));
  for (const workers of [0, 2]) {
    const pool = createParsePool({ workers });
    try {
      const o = await pool.prepare(gzipSync(text), { gunzipMaxBytes: 1 << 24 });
      assert.equal(o.kind, 'ok', `workers ${workers}`);
      if (o.kind !== 'ok') continue;
      assert.deepEqual(o.prepared.lines.map(view), inline.lines.map(view));
      assert.deepEqual(o.prepared.rollup, inline.rollup);
      assert.deepEqual(await pool.prepare(gzipSync(text), { gunzipMaxBytes: 1000 }), { kind: 'too_large' });
      assert.deepEqual(await pool.prepare(Buffer.from('not gzip'), { gunzipMaxBytes: 1000 }), { kind: 'bad_encoding', message: 'body is not valid gzip' });
    } finally {
      await pool.stop();
    }
  }
});
