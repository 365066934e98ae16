import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../../../test/helpers/pg-database.js';
import { loadConfig } from '../../shared/config/load-config.js';
import { listenerConfigSchema } from '../../shared/config/listener-config.js';
import { createLogger } from '../../shared/telemetry/logger.js';
import { decodeExportFacts } from '../extract/export-facts.js';
import { extractRecord } from '../extract/extract-record.js';
import { variantProfile } from '../../../test/helpers/listener-harness.js';
import { unpackPayload } from './payload-codec.js';
import { pgTarget } from './postgres/pg-connection.js';
import { openPostgresStore } from './postgres/postgres-store.js';
import { createSqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

const LIMITS = { queries: 2, functions: 1 };

function records() {
  const queries = [
    { query: 'SELECT * FROM a WHERE id = 1', duration_ms: 5, start_ms: 1, db_system: 'pgsql' },
    { query: 'SELECT * FROM b WHERE id = 2', duration_ms: 50, start_ms: 7 },
    { query: 'SELECT * FROM c WHERE id = 3', duration_ms: 9, start_ms: 60 },
  ];
  const kept = variantProfile({ id: 'with-facts', queries, functions: [{ name: 'main()', wall_time_ms: 600 }, { name: 'A::b', wall_time_ms: 300 }, { name: 'C::d', wall_time_ms: 100 }] });
  const plain = variantProfile({ id: 'without-facts' });
  return [extractRecord(kept, Buffer.from(JSON.stringify(kept)), Date.now, 'auto', LIMITS), extractRecord(plain, Buffer.from(JSON.stringify(plain)))];
}

async function roundTrip(store: Store): Promise<void> {
  await store.insertBatch(records());
  await store.activateExporters([{ name: 'otlp', startAt: 'beginning' }]);
  const rows = await store.readForExport('profile', '0', 10, 1 << 20);
  assert.deepEqual(rows.map((r) => r.key), ['with-facts', 'without-facts']);
  const facts = decodeExportFacts(rows[0]?.facts ?? '');
  assert.ok(facts, 'the facts kept at ingest come back with the row');
  assert.deepEqual(facts.queries, [
    { fingerprint: 'SELECT * FROM b WHERE id = ?', ms: 50, startMs: 7, system: null },
    { fingerprint: 'SELECT * FROM c WHERE id = ?', ms: 9, startMs: 60, system: null },
  ], 'the slowest queries (limit 2), in the order they ran');
  assert.deepEqual(facts.functions.map((f) => f.name), ['A::b'], 'main() left out, limit 1');
  assert.equal(rows[1]?.facts, null, 'a row stored without facts says so');
  const payload = JSON.parse(unpackPayload(rows[1]?.encoding ?? -1, rows[1]?.stored ?? Buffer.alloc(0)).toString()) as { correlation_id: string };
  assert.equal(payload.correlation_id, 'without-facts', 'the stored payload decodes to the bytes received');
}

test('SQLite and PostgreSQL keep the export facts with the profile and hand them to the exporter with its stored payload', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bitville-facts-'));
  const sqlite = createSqliteStore({ file: join(dir, 'listener.db') });
  const db = await createTestDatabase('bv_facts');
  const t = pgTarget(loadConfig(listenerConfigSchema, { env: {}, overrides: { store: { url: db.url } } }).store);
  assert.ok(t.ok);
  const pg = await openPostgresStore({ target: t.target, retentionDays: 7, partitionsAhead: 1, log: createLogger({ level: 'silent', format: 'json' }) });
  try {
    await roundTrip(sqlite);
    await roundTrip(pg);
  } finally {
    await sqlite.close();
    await pg.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
});
