import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractRecord } from '../../extract/extract-record.js';
import { fixtureText, variantProfile } from '../../../../test/helpers/listener-harness.js';
import { unpackPayload } from '../payload-codec.js';
import { createSqliteStore } from './sqlite-store.js';
import type { Store } from '../store.js';

const DAY = 86_400;

function records(prefix: string, n: number, ts: number, padBytes = 0) {
  return Array.from({ length: n }, (_, i) => {
    const p = variantProfile({ id: `${prefix}-${i}`, ts });
    if (padBytes > 0) p.custom = { pad: randomBytes(padBytes).toString('hex') };
    return extractRecord(p, Buffer.from(JSON.stringify(p)));
  });
}

async function withStore(fn: (store: Store, file: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bitville-export-store-'));
  const file = join(dir, 'listener.db');
  const store = createSqliteStore({ file });
  try {
    await fn(store, file);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('an export cursor reads records in store order in bounded batches and survives reopening the store', async () => {
  await withStore(async (store, file) => {
    const now = Date.now() / 1000;
    await store.insertBatch([...records('a', 5, now), extractRecord(JSON.parse(fixtureText('postgres-agent-activity.json')) as Record<string, unknown>, Buffer.from(fixtureText('postgres-agent-activity.json')))]);
    await store.insertBatch(records('b', 5, now - DAY, 3000)); // older timestamps, stored later: store order wins
    const [cursor] = await store.activateExporters([{ name: 'gelf', startAt: 'beginning' }]);
    assert.deepEqual(cursor?.position, { profile: '0', activity: '0' });

    const first = await store.readForExport('profile', '0', 4, 1 << 20);
    assert.deepEqual(first.map((r) => r.key), ['a-0', 'a-1', 'a-2', 'a-3']);
    assert.equal((JSON.parse(first[0] ? unpackPayload(first[0].encoding, first[0].stored).toString() : '{}') as { correlation_id: string }).correlation_id, 'a-0', 'the payload as received');
    assert.equal(first[0]?.profile?.endpoint, 'GET /products/{id}');
    const rest = await store.readForExport('profile', first[3]?.position ?? '', 100, 7000);
    assert.deepEqual(rest.map((r) => r.key).slice(0, 2), ['a-4', 'b-0']);
    assert.ok(rest.length < 4, `about maxBytes of stored payloads (~3 KB each): ${rest.length} rows`);
    assert.equal((await store.readForExport('profile', rest[0]?.position ?? '', 100, 1)).length, 1, 'always at least one row');
    const activity = await store.readForExport('activity', '0', 100, 1 << 20);
    assert.deepEqual(activity.map((r) => [r.source, r.profile]), [['pg_stat_activity', null]]);
    assert.equal(await store.exportBacklog('profile', first[3]?.position ?? ''), 6);

    await store.saveExportCursor('gelf', 'profile', rest[1]?.position ?? '', 3);
    await store.close();
    const again = createSqliteStore({ file });
    try {
      const [reopened] = await again.activateExporters([{ name: 'gelf', startAt: 'end' }]);
      assert.equal(reopened?.position.profile, rest[1]?.position, 'an existing cursor keeps its position whatever startAt says');
      assert.equal(reopened?.inFlight.profile, 3);
      const [fresh] = await again.activateExporters([{ name: 'otlp', startAt: 'end' }]);
      assert.deepEqual(await again.readForExport('profile', fresh?.position.profile ?? '0', 10, 1 << 20), [], 'startAt end: only records stored from now on');
    } finally {
      await again.close();
    }
  });
});

test('retention counts the rows it deletes before an enabled exporter sent them, and never hands out a position twice', async () => {
  await withStore(async (store) => {
    const now = Date.now() / 1000;
    await store.insertBatch(records('old', 10, now - 10 * DAY));
    await store.activateExporters([{ name: 'gelf', startAt: 'beginning' }, { name: 'otlp', startAt: 'beginning' }]);
    const rows = await store.readForExport('profile', '0', 4, 1 << 20);
    await store.saveExportCursor('gelf', 'profile', rows[3]?.position ?? '', 0); // gelf sent 4, otlp none
    await store.activateExporters([{ name: 'gelf', startAt: 'beginning' }]); // otlp switched off: not counted any more

    await store.deleteOlderThan(now - 7 * DAY, 1000);
    assert.equal((await store.counts()).requests, 1, 'the newest row stays, so its rowid is never reused');
    const gelf = await store.exportCursor('gelf');
    const otlp = await store.exportCursor('otlp');
    assert.equal(gelf?.droppedByRetention.profile, 5, 'rows 5-9 went unsent (row 10 is kept)');
    assert.equal(otlp?.droppedByRetention.profile, 0, 'a disabled exporter counts nothing');

    const lastOld = (await store.readForExport('profile', rows[3]?.position ?? '', 10, 1 << 20)).map((r) => r.position);
    assert.equal(lastOld.length, 1);
    await store.insertBatch(records('new', 1, now));
    const after = await store.readForExport('profile', lastOld[0] ?? '', 10, 1 << 20);
    assert.deepEqual(after.map((r) => r.key), ['new-0'], 'a row stored after the kept one comes after it');
  });
});
