import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createLogger } from '../shared/telemetry/logger.js';
import { rateLimitedLog } from '../shared/telemetry/rate-limited-log.js';
import { extractRecord } from './extract/extract-record.js';
import { createListenerMetrics } from './metrics.js';
import { createRetention } from './retention.js';
import { createSqliteStore } from './store/sqlite/sqlite-store.js';
import { variantProfile } from '../../test/helpers/listener-harness.js';
import { MIGRATIONS } from './store/sqlite/migrations.js';
import Database from 'better-sqlite3';

const DAY = 86_400;

function records(prefix: string, n: number, ts: number) {
  return Array.from({ length: n }, (_, i) => {
    const p = variantProfile({ id: `${prefix}-${i}`, uri: `/${prefix}/${i}`, ts: ts + i / 1000, functions: [{ name: `${prefix}::fn`, wall_time_ms: 5 }] });
    p.custom = { pad: randomBytes(2000).toString('hex') }; // payloads are stored compressed: random so they stay big
    return extractRecord(p, Buffer.from(JSON.stringify(p)));
  });
}

test('retention removes old rows in small batches while ingest continues, and gives the space back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bitville-retention-'));
  const file = join(dir, 'listener.db');
  const store = createSqliteStore({ file });
  const log = createLogger({ level: 'silent', format: 'json' });
  const now = Date.now() / 1000;
  try {
    for (let b = 0; b < 10; b++) await store.insertBatch(records(`old${b}`, 300, now - 10 * DAY));
    await store.insertBatch(records('recent', 100, now - DAY));
    const before = (await stat(file)).size + (await stat(`${file}-wal`).catch(() => ({ size: 0 }))).size; // close() folds the WAL in
    const retention = createRetention({ store, retentionDays: 7, intervalMs: 3_600_000, batchRows: 100, metrics: createListenerMetrics(), log, logLimited: rateLimitedLog(log) });

    let ingestedDuringRetention = 0;
    let done = false;
    const ingest = (async () => {
      for (let i = 0; !done; i++) {
        const r = await store.insertBatch(records(`live${i}`, 20, now));
        ingestedDuringRetention += r.filter((x) => x.kind === 'accepted').length;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const deleted = await retention.runOnce();
    done = true;
    await ingest;

    assert.ok(deleted >= 3000, `deleted ${deleted}`);
    assert.ok(ingestedDuringRetention >= 20 * 10, `only ${ingestedDuringRetention} profiles got in while retention ran`);
    assert.deepEqual(await store.counts(), { requests: 100 + ingestedDuringRetention, db_activity: 0 });
    const old = await store.search({ projects: null, to: now - 7 * DAY, limit: 10 });
    assert.equal(old.total, 0);
    const oldStats = await store.stats('functions', { projects: null, from: now - 11 * DAY, to: now - 9 * DAY }, 10);
    assert.deepEqual(oldStats, []);
    const recentStats = await store.stats('functions', { projects: null, from: now - DAY - 60, to: now - DAY + 60 }, 10);
    assert.equal(recentStats[0]?.key, 'recent::fn');
    assert.equal(retention.stats().last_deleted, deleted);
    await store.close();
    const afterSize = (await stat(file)).size;
    assert.ok(afterSize < before, `file did not shrink: ${before} -> ${afterSize}`);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('schema migrations are versioned: reopening a database keeps its rows and its version', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bitville-migrate-'));
  const file = join(dir, 'listener.db');
  try {
    const first = createSqliteStore({ file });
    await first.insertBatch(records('keep', 5, Date.now() / 1000));
    await first.close();
    const second = createSqliteStore({ file });
    assert.equal((await second.counts()).requests, 5);
    await second.close();
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS[MIGRATIONS.length - 1]?.version);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
