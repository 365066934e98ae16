import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractRecord } from '../extract/extract-record.js';
import { fixtureText, ndjson, startTestListener, variantProfile } from '../../../test/helpers/listener-harness.js';
import { packPayload, unpackPayload, ENCODING_CODE } from './payload-codec.js';
import { createSqliteStore } from './sqlite/sqlite-store.js';

test('packing keeps small and incompressible payloads as they are and round-trips the rest byte for byte', () => {
  const small = Buffer.from('{"a":1}');
  assert.equal(packPayload(small).encoding, 'identity');
  const noise = randomBytes(4096);
  assert.deepEqual(packPayload(noise), { encoding: 'identity', bytes: noise });
  const text = Buffer.from(`  {"url":"/x",\n  "pad":"${'é'.repeat(3000)}"}  `); // odd spacing and multi-byte text
  const packed = packPayload(text);
  assert.equal(packed.encoding, 'brotli');
  assert.ok(packed.bytes.length < text.length / 4);
  assert.ok(unpackPayload(ENCODING_CODE.brotli, packed.bytes).equals(text));
});

test('the store hands back every payload exactly as received, compressed or not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bitville-codec-'));
  const store = createSqliteStore({ file: join(dir, 'listener.db') });
  try {
    const pretty = Buffer.from(JSON.stringify({ ...variantProfile({ id: 'big', uri: '/big' }), pad: 'z'.repeat(5000) }, null, 3));
    const tiny = Buffer.from(JSON.stringify(variantProfile({ id: 'tiny', uri: '/tiny' })));
    const activity = Buffer.from(JSON.stringify({ source: 'pg_stat_activity', correlation_id: 'act', project: 'project-a', data: { query: `/* correlation:big */ SELECT ${'1,'.repeat(2000)}1` } }));
    await store.insertBatch([
      extractRecord(JSON.parse(pretty.toString()) as Record<string, unknown>, pretty),
      extractRecord(JSON.parse(tiny.toString()) as Record<string, unknown>, tiny),
      extractRecord(JSON.parse(activity.toString()) as Record<string, unknown>, activity),
    ]);
    assert.ok((await store.getRequest(null, 'big'))?.body.equals(pretty));
    assert.ok((await store.getRequest(null, 'tiny'))?.body.equals(tiny));
    const [linked] = await store.dbActivity('project-a', 'big', 10);
    assert.ok(linked?.body.equals(activity));
    const [recent] = await store.recentPayloads('project-a', 'GET /big', Date.now() / 1000 + 60, -1, 5);
    assert.ok(recent?.equals(pretty));
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('payloads compressed by the parse workers come back unchanged through the read API', async () => {
  const l = await startTestListener();
  try {
    const fixture = JSON.parse(fixtureText('php-agent-original-shape.json')) as Record<string, unknown>;
    const big = { ...fixture, correlation_id: 'codec-1', custom: { notes: 'ünïcödé '.repeat(800) } };
    const res = await l.post('/v1/ingest', ndjson([big]), { gzip: true });
    assert.deepEqual(res.json, { accepted: 1, duplicates: 0, rejected: [] });
    const detail = await l.get('/api/v1/requests/codec-1');
    assert.equal(detail.status, 200);
    assert.deepEqual(detail.json.payload, big);
  } finally {
    await l.close();
  }
});
