import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractRecord, type ProfileRecord } from '../extract/extract-record.js';
import { variantProfile } from '../../../test/helpers/listener-harness.js';
import { bucketOf } from './duration-buckets.js';
import { createRollupAggregator, HOUR, MINUTE, mergeRollups, type BatchRollup } from './batch-rollup.js';

function profiles(n: number): ProfileRecord[] {
  const t0 = 1_764_000_000 - 30; // spans an hour boundary
  return Array.from({ length: n }, (_, i) => {
    const p = variantProfile({
      id: `r${i}`,
      uri: `/p/${i % 4}`,
      ms: 5 + ((i * 37) % 400),
      ts: t0 + i * 7,
      status: i % 9 === 0 ? 500 : 200,
      queries: [{ query: `SELECT * FROM t${i % 3} WHERE id = ${i}`, duration_ms: (i % 5) + 0.5 }],
      functions: [{ name: `F${i % 6}`, wall_time_ms: i % 50, calls: 2 }],
    });
    return extractRecord(p, Buffer.from(JSON.stringify(p))) as ProfileRecord;
  });
}

/** The obvious way: every sample into its minute and its hour cell. */
function reference(records: readonly ProfileRecord[]): Map<string, unknown> {
  const cells = new Map<string, { count: number; totalMs: number; maxMs: number; errors: number; calls: number; counts: Map<number, number> }>();
  const add = (project: string, kind: string, key: string, ts: number, ms: number, errors: number, calls: number): void => {
    for (const res of [MINUTE, HOUR]) {
      const k = `${project}|${kind}|${res}|${Math.floor(ts / res) * res}|${key}`;
      let c = cells.get(k);
      if (!c) cells.set(k, (c = { count: 0, totalMs: 0, maxMs: 0, errors: 0, calls: 0, counts: new Map() }));
      c.count++;
      c.totalMs += ms;
      c.maxMs = Math.max(c.maxMs, ms);
      c.errors += errors;
      c.calls += calls;
      c.counts.set(bucketOf(ms), (c.counts.get(bucketOf(ms)) ?? 0) + 1);
    }
  };
  for (const r of records) {
    const err = r.isError ? 1 : 0;
    add(r.project, 's', '', r.timestamp, r.durationMs, err, 1);
    add(r.project, 'e', r.endpoint, r.timestamp, r.durationMs, err, 1);
    for (const q of r.queries) add(r.project, 'q', q.fingerprint, r.timestamp, q.ms ?? 0, 0, 1);
    for (const f of r.functions) add(r.project, 'f', f.name, r.timestamp, f.wallMs, 0, f.calls);
  }
  return new Map([...cells].map(([k, c]) => [k, { ...c, totalMs: Math.round(c.totalMs * 1e6), counts: [...c.counts].sort((a, b) => a[0] - b[0]) }]));
}

function view(rollup: BatchRollup): Map<string, unknown> {
  return new Map(
    rollup.cells.map((c) => [
      `${c.project}|${c.kind}|${c.res}|${c.t}|${c.key}`,
      { count: c.count, totalMs: Math.round(c.totalMs * 1e6), maxMs: c.maxMs, errors: c.errors, calls: c.calls, counts: [...c.counts].sort((a, b) => a[0] - b[0]) },
    ]),
  );
}

test('the batch aggregate (minute cells, hours summed from them) equals adding every sample to its minute and hour', () => {
  const records = profiles(1200);
  const agg = createRollupAggregator();
  for (const r of records) agg.add(r);
  const rollup = agg.result();
  assert.equal(rollup.profiles, 1200);
  assert.deepEqual(view(rollup), reference(records));
  assert.deepEqual(view(agg.result()), reference(records), 'result() can be called again');
});

test('rollups of a body split across workers merge into the rollup of the whole body', () => {
  const records = profiles(500);
  const parts = [records.slice(0, 170), records.slice(170, 333), records.slice(333)].map((part) => {
    const agg = createRollupAggregator();
    for (const r of part) agg.add(r);
    return agg.result();
  });
  const merged = mergeRollups(parts);
  assert.equal(merged.profiles, 500);
  assert.deepEqual(view(merged), reference(records));
});
