// Issue 12: a database written by an earlier listener version is migrated in place, nothing lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ndjson, startTestListener, variantProfile } from '../helpers/listener-harness.js';
import { ENCODING_CODE, packPayload } from '../../src/listener/store/payload-codec.js';
import { partitionName, dayOf } from '../../src/listener/store/postgres/pg-partitions.js';
import { PG_MIGRATIONS } from '../../src/listener/store/postgres/pg-schema.js';
import { createTestDatabase } from '../helpers/pg-database.js';

test('a schema-5 database (payloads inside requests) migrates to request_bodies: every payload, the DEFAULT partition\'s too, reads back byte for byte, export facts move with them, and ingest goes on', async () => {
  const db = await createTestDatabase();
  const now = Date.now() / 1000;
  // Schema 5 as a listener of that version left it: migrations 1-5, today's partitions, rows with their payloads.
  await db.query(`BEGIN; ${PG_MIGRATIONS.filter((m) => m.version <= 5).map((m) => m.sql).join(';\n')};
    CREATE TABLE schema_migrations (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), applied_by text NOT NULL);
    INSERT INTO schema_migrations (version, description, applied_by) SELECT v, 'v' || v, 'test' FROM generate_series(1, 5) v; COMMIT`);
  const day = dayOf(now);
  for (const t of ['requests', 'db_activity', 'db_activity_links', 'rollups']) {
    const name = partitionName(t, day);
    await db.query(`CREATE TABLE ${name} (LIKE ${t} INCLUDING DEFAULTS INCLUDING STORAGE); ALTER TABLE ${t} ATTACH PARTITION ${name} FOR VALUES FROM (${day * 86_400}) TO (${(day + 1) * 86_400})`);
  }
  const old = [
    { id: 'v4-packed', ts: now - 60, body: Buffer.from(JSON.stringify(variantProfile({ id: 'v4-packed', ts: now - 60 }))) },
    { id: 'v4-small', ts: now - 30, body: Buffer.from('{"correlation_id":"v4-small"}') },
    { id: 'v4-ancient', ts: 1_000_000_000, body: Buffer.from(JSON.stringify(variantProfile({ id: 'v4-ancient', ts: 1_000_000_000 }))) },
  ];
  for (const [i, r] of old.entries()) {
    const p = packPayload(r.body);
    await db.query('INSERT INTO request_keys (correlation_id, project, source, id, ts) VALUES ($1, $2, $3, $4, $5)', [r.id, 'project-a', 'php', i + 1, r.ts]);
    await db.query(
      `INSERT INTO requests (id, project, source, correlation_id, ts, method, url, endpoint, status, duration_ms, host, sql_count, sql_ms, is_error, encoding, body, facts)
       VALUES ($1, 'project-a', 'php', $2, $3, 'GET', '/old', 'GET /old', 200, 12.5, 'web-01', 0, 0, false, $4, $5, $6)`,
      [i + 1, r.id, r.ts, ENCODING_CODE[p.encoding], p.bytes, i === 0 ? '{"kept":1}' : null],
    );
  }
  await db.query("SELECT setval('request_ids', 3)");

  const l = await startTestListener({ store: { url: db.url, retentionDays: 36_500 } });
  try {
    assert.deepEqual((await db.query<{ v: number }>('SELECT max(version) AS v FROM schema_migrations'))[0]?.v, 6);
    assert.deepEqual(await db.query('SELECT id, facts FROM request_bodies ORDER BY id'), [{ id: '1', facts: '{"kept":1}' }, { id: '2', facts: null }, { id: '3', facts: null }], 'export facts went with their payloads');
    assert.equal((await db.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'requests' AND column_name IN ('body', 'encoding', 'facts')")).length, 0, 'the payload columns are gone from requests');
    assert.equal((await db.query(`SELECT 1 FROM pg_class WHERE relname = '${partitionName('request_bodies', day)}'`)).length, 1, "today's payload partition was created beside today's rows");
    for (const r of old) {
      const res = await fetch(`${l.url}/api/v1/requests/${r.id}/payload`, { headers: { Authorization: 'Bearer token-all' } });
      assert.equal(res.status, 200, r.id);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(r.body), `${r.id}: the same bytes`);
    }
    const added = await l.post('/v1/ingest', ndjson([variantProfile({ id: 'v5-new', ts: now })]), { token: 'token-all' });
    assert.equal(added.json.accepted, 1);
    const page = await l.get('/api/v1/requests?project=project-a&limit=10', 'token-all');
    assert.deepEqual((page.json.items as { correlation_id: string }[]).map((x) => x.correlation_id), ['v5-new', 'v4-small', 'v4-packed', 'v4-ancient']);
    assert.equal((await l.get('/api/v1/requests/v5-new', 'token-all')).status, 200);
  } finally {
    await l.close();
    await db.drop();
  }
});
