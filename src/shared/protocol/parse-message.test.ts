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

test('structural validation keeps the bytes and rejects cut-off, interleaved and garbage messages like the full parse does', () => {
  const good = Buffer.from('{"correlation_id":"a","project":"p","n":[1,-2.5e3,true,false,null],"s":"x\\"}{]"}');
  for (const mode of ['structural', 'full'] as const) {
    const ok = parseMessage(good, mode);
    assert.equal(ok.kind, 'accepted', mode);
    if (ok.kind === 'accepted') assert.equal(ok.bytes, good, `${mode}: the very bytes, not a copy`);
    for (const bad of ['{"correlation_id":"a","project":"p"', '{"a":1}{"b":2}', '{"a":1]', '{"correlation_id": "x", oops}', '{"a":"unterminated}']) {
      assert.deepEqual(parseMessage(Buffer.from(bad), mode), { kind: 'rejected', code: 'invalid_json' }, `${mode}: ${bad}`);
    }
    assert.deepEqual(parseMessage(Buffer.from('[1,2]'), mode), { kind: 'rejected', code: 'not_object' });
    assert.deepEqual(parseMessage(Buffer.from([0xff, 0x7b, 0x13]), mode), { kind: 'rejected', code: 'invalid_json' });
  }
});

test('structural validation still fills defaults and re-serialises multi-line messages through the full parse', () => {
  const noProject = parseMessage(Buffer.from('{"correlation_id":"a","project":""}'));
  assert.equal(noProject.kind === 'accepted' && noProject.filledDefaults, true);
  const nested = parseMessage(Buffer.from('{"x":{"correlation_id":"inner","project":"inner"}}'));
  assert.equal(nested.kind === 'accepted' && nested.filledDefaults, true, 'keys of nested objects do not count');
  const pretty = parseMessage(Buffer.from('{\n "correlation_id": "a",\n "project": "p"\n}'));
  assert.equal(pretty.kind === 'accepted' && !pretty.bytes.includes(0x0a), true);
  const longEscaped = parseMessage(Buffer.from(JSON.stringify({ correlation_id: 'é'.repeat(100), project: 'p' })));
  assert.equal(longEscaped.kind, 'accepted', '100 characters of 2 bytes each: exact check by the full parse');
});
