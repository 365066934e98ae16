import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import type { ExportRow } from '../../store/store.js';
import { gelfChunks, maxChunkedBytes } from './gelf-chunks.js';
import { cutUtf8, gelfMessage } from './gelf-message.js';

function row(o: Partial<NonNullable<ExportRow['profile']>> = {}, body = '{"correlation_id":"c-1"}'): ExportRow {
  return {
    stream: 'profile',
    position: '7',
    project: 'shop',
    source: 'php',
    key: 'c-1',
    timestamp: 1764150001.123456,
    profile: { method: 'POST', url: 'https://shop.example/cart', endpoint: 'POST /cart', status: 503, duration_ms: 1234.5678, host: 'web-3', sql_count: 4, sql_ms: 12.25, is_error: true, ...o },
    stored: Buffer.from(body),
    encoding: 0,
    facts: null,
  };
}

test('a profile becomes a GELF 1.1 message with the indexed fields and a level from its status', () => {
  const m = gelfMessage(row(), 1000);
  assert.deepEqual(m, {
    version: '1.1',
    host: 'web-3',
    short_message: 'POST https://shop.example/cart 1234.568 ms',
    timestamp: 1764150001.123,
    level: 3,
    _project: 'shop',
    _correlation_id: 'c-1',
    _url: 'https://shop.example/cart',
    _method: 'POST',
    _status: 503,
    _duration_ms: 1234.568,
    _sql_count: 4,
    _sql_ms: 12.25,
    _endpoint: 'POST /cart',
    _source: 'php',
    full_message: '{"correlation_id":"c-1"}',
  });
  assert.equal(gelfMessage(row({ status: 404, is_error: false }), 1000).level, 4);
  assert.equal(gelfMessage(row({ status: 200, is_error: false }), 1000).level, 6);
  assert.equal(gelfMessage(row({ status: null, is_error: false }), 1000)._status, undefined);
});

test('full_message is cut at the byte limit on a UTF-8 boundary and the cut is flagged', () => {
  const body = `{"note":"${'é'.repeat(100)}"}`; // 2-byte characters from byte 9 on
  const m = gelfMessage(row({}, body), 20);
  assert.equal(m.full_message, '{"note":"ééééé'); // 9 + 5 * 2 = 19 bytes: the sixth é would end at 21
  assert.equal(m._full_message_truncated, 1);
  assert.equal(m._payload_bytes, Buffer.byteLength(body));
  assert.equal(cutUtf8(Buffer.from('€€'), 4).toString(), '€');
  assert.equal(gelfMessage(row({}, body), 0).full_message, undefined);
});

test('a Postgres-agent record names its source and the request it belongs to', () => {
  const body = JSON.stringify({ project: 'shop', source: 'pg_stat_activity', data: { sessions: [{ application_name: 'bitville-req-9', state: 'active' }], count: 1 } });
  const m = gelfMessage({ ...row(), stream: 'activity', source: 'pg_stat_activity', key: 'sha256:abc', profile: null, stored: Buffer.from(body) }, 10_000);
  assert.equal(m.short_message, 'pg_stat_activity: 1 rows (1 linked requests)');
  assert.equal(m._correlation_id, 'req-9');
  assert.equal(m._linked_ids, 'req-9');
  assert.equal(m._record_key, 'sha256:abc');
  assert.equal(m.level, 6);
});

test('GELF chunks carry magic bytes, one message id, sequence numbers and count, and reassemble to the message', () => {
  const message = Buffer.from('x'.repeat(1000));
  const chunks = gelfChunks(message, 256, Buffer.from('0102030405060708', 'hex'));
  assert.ok(chunks);
  assert.equal(chunks.length, Math.ceil(1000 / 244));
  chunks.forEach((c, i) => {
    assert.ok(c.length <= 256);
    assert.deepEqual([...c.subarray(0, 2)], [0x1e, 0x0f]);
    assert.equal(c.subarray(2, 10).toString('hex'), '0102030405060708');
    assert.deepEqual([c[10], c[11]], [i, chunks.length]);
  });
  assert.deepEqual(Buffer.concat(chunks.map((c) => c.subarray(12))), message);
  assert.deepEqual(gelfChunks(message, 1000), [message], 'a message that fits is one plain datagram');
  assert.equal(gelfChunks(Buffer.alloc(maxChunkedBytes(256) + 1), 256), null, 'more than 128 chunks');
  assert.ok(gunzipSync);
});
