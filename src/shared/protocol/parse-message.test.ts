import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from './parse-message.js';

test('keeps the bytes of a complete message unchanged', () => {
  const raw = Buffer.from('{"correlation_id":"a","project":"p","x":1}');
  const out = parseMessage(raw);
  assert.equal(out.kind, 'accepted');
  if (out.kind === 'accepted') {
    assert.equal(out.bytes.toString(), raw.toString());
    assert.equal(out.filledDefaults, false);
  }
});

test('fills a missing correlation id and project and says so', () => {
  const out = parseMessage(Buffer.from('{"x":1}\r'));
  assert.equal(out.kind, 'accepted');
  if (out.kind !== 'accepted') return;
  const parsed = JSON.parse(out.bytes.toString()) as Record<string, unknown>;
  assert.equal(parsed.project, 'default');
  assert.match(String(parsed.correlation_id), /^[0-9a-f-]{36}$/);
  assert.equal(out.filledDefaults, true);
});

test('re-serialises a pretty-printed object so it stays one NDJSON line', () => {
  const out = parseMessage(Buffer.from('{\n "correlation_id": "a",\n "project": "p"\n}\n'));
  assert.equal(out.kind, 'accepted');
  if (out.kind === 'accepted') assert.equal(out.bytes.includes(0x0a), false);
});

test('rejects invalid JSON, binary garbage and non-objects with distinct codes', () => {
  assert.deepEqual(parseMessage(Buffer.from('{"a":')), { kind: 'rejected', code: 'invalid_json' });
  assert.deepEqual(parseMessage(Buffer.from([0xff, 0x00, 0x13, 0x37])), { kind: 'rejected', code: 'invalid_json' });
  assert.deepEqual(parseMessage(Buffer.from('[1,2]')), { kind: 'rejected', code: 'not_object' });
  assert.deepEqual(parseMessage(Buffer.from('null')), { kind: 'rejected', code: 'not_object' });
  assert.deepEqual(parseMessage(Buffer.from('"text"')), { kind: 'rejected', code: 'not_object' });
});

test('refuses a message nested deeper than the limit before parsing it, and an over-long correlation id', () => {
  const deep = Buffer.from('{"correlation_id":"a","project":"p","x":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}');
  assert.deepEqual(parseMessage(deep), { kind: 'rejected', code: 'too_deep' });
  const noId = Buffer.from('{"x":' + '{"a":'.repeat(2_000) + '1' + '}'.repeat(2_000) + '}'); // would need JSON.stringify
  assert.deepEqual(parseMessage(noId), { kind: 'rejected', code: 'too_deep' });
  assert.deepEqual(parseMessage(Buffer.from(JSON.stringify({ correlation_id: 'x'.repeat(129), project: 'p' }))), { kind: 'rejected', code: 'id_too_long' });
  assert.equal(parseMessage(Buffer.from(JSON.stringify({ correlation_id: 'x'.repeat(128), project: 'p' }))).kind, 'accepted');
});
