import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureText, variantProfile } from '../../../test/helpers/listener-harness.js';
import { correlationIds } from './correlation-ids.js';
import { extractRecord } from './extract-record.js';
import { endpointKey } from './normalize-path.js';
import { sqlFingerprint } from './sql-fingerprint.js';
import { xhprofFunctions } from './xhprof-functions.js';

const body = Buffer.from('{}');

test('reads the original PHP agent shape: request.url, timing.elapsed_ms, sql.summary, top_functions', () => {
  const r = extractRecord(JSON.parse(fixtureText('php-agent-original-shape.json')) as Record<string, unknown>, body);
  assert.equal(r.kind, 'profile');
  if (r.kind !== 'profile') return;
  assert.equal(r.endpoint, 'POST /checkout/confirm');
  assert.equal(r.durationMs, 1234.56);
  assert.equal(r.timestamp, 1764150000.1234);
  assert.equal(r.sqlCount, 37);
  assert.equal(r.sqlMs, 880.4);
  assert.deepEqual(r.queries.map((q) => q.fingerprint), ['SELECT * FROM orders WHERE id = ? FOR UPDATE', 'UPDATE stock SET qty = qty - ? WHERE product_id = ?']);
  assert.deepEqual(r.functions.map((f) => [f.name, f.wallMs]).slice(0, 2), [['main()', 1231], ['OrderService::confirm', 1010]]);
});

test('reads the other variant and survives missing or odd fields', () => {
  const r = extractRecord(variantProfile({ id: 'v', uri: '/a/b?x=1', ms: 75, queries: [{ query: 'SELECT 2', duration_ms: 4 }] }), body);
  assert.ok(r.kind === 'profile');
  assert.equal(r.url, '/a/b?x=1');
  assert.equal(r.sqlCount, 1);
  assert.equal(r.sqlMs, 4);
  const odd = extractRecord({ timestamp: 'soon', elapsed_ms: '12.5', sql: [{ sql: 'SELECT 3', time_ms: 1 }], response: { status_code: '502' }, fatal_error: null }, body, () => 5_000);
  assert.ok(odd.kind === 'profile');
  assert.equal(odd.project, 'default');
  assert.match(odd.correlationId, /^sha256:/);
  assert.equal(odd.timestamp, 5);
  assert.equal(odd.durationMs, 12.5);
  assert.equal(odd.status, 502);
  assert.equal(odd.isError, true);
  assert.equal(odd.sqlCount, 1);
});

test('finds correlation ids in application_name, SQL comments and nested correlation_id fields', () => {
  const fixture = JSON.parse(fixtureText('postgres-agent-activity.json')) as Record<string, unknown>;
  assert.deepEqual(correlationIds(fixture), ['3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10']);
  const r = extractRecord(fixture, body);
  assert.ok(r.kind === 'activity');
  assert.match(r.recordKey, /^sha256:/); // top-level id is empty
  assert.deepEqual(
    correlationIds({ data: [{ application_name: 'bitville-abc-1' }, { query: 'SELECT 1 /* correlation:abc-2 */' }, { deep: { correlation_id: 'abc-3' } }] }).sort(),
    ['abc-1', 'abc-2', 'abc-3'],
  );
});

test('finds the sqlcommenter bitville_id and session keys, but not the record\'s own top-level key', () => {
  const record = {
    correlation_id: 'pg-host-1-7',
    source: 'pg_locks',
    data: {
      waits: [{ query: "/*bitville_id='0b7c9d1e-1111-4222-8333-944455556666',traceparent='00-0b7c9d1e111142228333944455556666-00f067aa0ba902b7-01'*/ UPDATE t SET a = 1", session_key: 'pg:4411:1764150001' }],
      blockers: [{ session_key: 'pg:4412:1764150000', application_name: 'psql' }, { session_key: 'not a key' }],
    },
  };
  assert.deepEqual(correlationIds(record).sort(), ['0b7c9d1e-1111-4222-8333-944455556666', 'pg:4411:1764150001', 'pg:4412:1764150000']);
});

test('the sqlcommenter comment does not change a query\'s fingerprint', () => {
  const plain = 'SELECT * FROM orders WHERE id = 1042';
  const tagged = `/*bitville_id='0b7c9d1e-1111-4222-8333-944455556666',traceparent='00-0b7c9d1e111142228333944455556666-00f067aa0ba902b7-01'*/ ${plain}`;
  assert.equal(sqlFingerprint(tagged), sqlFingerprint(plain));
});

test('endpoint keys replace ids, UUIDs, hex digests and long tokens but keep route names', () => {
  assert.equal(endpointKey('GET', 'https://shop.example/orders/1042/items/7?x=1#top'), 'GET /orders/{id}/items/{id}');
  assert.equal(endpointKey('GET', '/u/3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10/'), 'GET /u/{uuid}');
  assert.equal(endpointKey('GET', '/assets/app.9f86d081884c7d65.js'), 'GET /assets/app.9f86d081884c7d65.js');
  assert.equal(endpointKey('GET', '/blob/9f86d081884c7d65'), 'GET /blob/{hex}');
  assert.equal(endpointKey('POST', '/reset/aB3dEfGhIjKlMnOpQrStUv'), 'POST /reset/{token}');
  assert.equal(endpointKey('GET', '/checkout/confirm'), 'GET /checkout/confirm');
});

test('SQL fingerprints replace literals, drop comments and collapse IN lists and VALUES rows', () => {
  assert.equal(sqlFingerprint("SELECT * FROM t WHERE a = 'it''s' AND b = 42 AND c = -1.5"), 'SELECT * FROM t WHERE a = ? AND b = ? AND c = ?');
  assert.equal(sqlFingerprint('/* correlation:x */ SELECT  *\n FROM t -- note\n WHERE id IN (1, 2, 3)'), 'SELECT * FROM t WHERE id IN (?)');
  // Any number of rows of literals is one fingerprint, as pt-query-digest does it.
  assert.equal(sqlFingerprint("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')"), 'INSERT INTO t (a, b) VALUES (?)');
  assert.equal(sqlFingerprint('SELECT * FROM t2 WHERE x = $1 AND y = 0x1F'), 'SELECT * FROM t2 WHERE x = ? AND y = ?');
  assert.equal(sqlFingerprint('INSERT INTO t VALUES (1), (2), (3)'), 'INSERT INTO t VALUES (?)');
});

test('computes inclusive and self wall time from a raw parent==>child XHProf map', () => {
  const fns = xhprofFunctions({
    data: {
      'main()': { ct: 1, wt: 10_000 },
      'main()==>A::run': { ct: 1, wt: 8_000 },
      'A::run==>B::io': { ct: 3, wt: 5_000 },
      'main()==>B::io': { ct: 1, wt: 1_000 },
    },
  });
  const byName = new Map(fns.map((f) => [f.name, f]));
  assert.deepEqual(byName.get('main()'), { name: 'main()', wallMs: 10, selfMs: 1, calls: 1 });
  assert.deepEqual(byName.get('A::run'), { name: 'A::run', wallMs: 8, selfMs: 3, calls: 1 });
  assert.deepEqual(byName.get('B::io'), { name: 'B::io', wallMs: 6, selfMs: 6, calls: 4 });
  assert.deepEqual(xhprofFunctions(null), []);
});
