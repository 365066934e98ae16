import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractRecord, type ExtractedRecord } from '../../extract/extract-record.js';
import { prepareLines } from '../../ingest-api/prepare-lines.js';
import { ndjson, variantProfile } from '../../../../test/helpers/listener-harness.js';
import type { Store } from '../store.js';
import { createSqliteStore } from './sqlite-store.js';

const T0 = 1_764_003_000; // batches span an hour boundary

function profile(i: number): Record<string, unknown> {
  return variantProfile({
    id: `p${i}`,
    uri: `/e/${i % 3}/${i}`,
    ms: 3 + ((i * 53) % 900),
    ts: T0 + i * 11,
    status: i % 13 === 0 ? 502 : 200,
    queries: [
      { query: `SELECT * FROM a WHERE id = ${i}`, duration_ms: i % 7 },
      { query: `UPDATE b SET n = ${i} WHERE k IN (${i}, ${i + 1})`, duration_ms: 1.5 },
    ],
    functions: [
      { name: `Svc${i % 4}::run`, wall_time_ms: (i % 30) + 0.25, calls: 3 },
      { name: 'main()', wall_time_ms: 50 },
    ],
  });
}

/** Everything the read API derives from rollups, for the whole window. */
async function statistics(store: Store): Promise<unknown> {
  const window = { projects: null, from: T0 - 3600, to: T0 + 7200 };
  const out: Record<string, unknown> = {};
  for (const kind of ['endpoints', 'queries', 'functions'] as const) {
    const rows = await store.stats(kind, window, 100);
    out[kind] = rows;
    for (const r of rows) out[`${kind}:${r.key}`] = (await store.keyDetail(kind, r.key, window, 600)).histogram;
  }
  out.series = await store.timeseries(window, 600);
  return out;
}

async function withStores(fn: (direct: Store, prepared: Store) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bitville-prepared-rollup-'));
  const direct = createSqliteStore({ file: join(dir, 'direct.db') });
  const prepared = createSqliteStore({ file: join(dir, 'prepared.db') });
  try {
    await fn(direct, prepared);
  } finally {
    await direct.close();
    await prepared.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The same lines through both paths: extracted records one by one, and a worker's lean records + rollup. */
async function insertBoth(direct: Store, prepared: Store, objects: readonly Record<string, unknown>[]): Promise<void> {
  const records: ExtractedRecord[] = objects.map((o) => extractRecord(o, Buffer.from(JSON.stringify(o))));
  const body = prepareLines(Buffer.from(ndjson(objects)));
  const lean = body.lines.flatMap((l) => (l.kind === 'record' ? [l.record] : []));
  for (const r of lean) if (r.kind === 'profile') assert.deepEqual([r.queries, r.functions], [[], []], 'worker records travel without samples');
  const a = await direct.insertBatch(records);
  const b = await prepared.insertBatch(lean, body.rollup);
  assert.deepEqual(b, a);
}

test('a batch stored with its precomputed rollup gives the same statistics as one aggregated record by record', async () => {
  await withStores(async (direct, prepared) => {
    await insertBoth(direct, prepared, Array.from({ length: 400 }, (_, i) => profile(i)));
    await insertBoth(direct, prepared, Array.from({ length: 200 }, (_, i) => profile(400 + i))); // same cells again: cached histograms
    assert.deepEqual(await statistics(prepared), await statistics(direct));
  });
});

test('duplicates in a batch with a precomputed rollup: only the new profiles reach the statistics', async () => {
  await withStores(async (direct, prepared) => {
    await insertBoth(direct, prepared, Array.from({ length: 100 }, (_, i) => profile(i)));
    // Half already stored, one repeated within the batch: the rollup cannot be used whole.
    const mixed = [...Array.from({ length: 100 }, (_, i) => profile(50 + i)), profile(120)];
    await insertBoth(direct, prepared, mixed);
    await insertBoth(direct, prepared, Array.from({ length: 150 }, (_, i) => profile(i))); // all duplicates
    const stats = (await statistics(prepared)) as { endpoints: { count: number }[] };
    assert.equal(stats.endpoints.reduce((n, r) => n + r.count, 0), 150);
    assert.deepEqual(stats, await statistics(direct));
  });
});
