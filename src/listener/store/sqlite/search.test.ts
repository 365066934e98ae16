import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractRecord } from '../../extract/extract-record.js';
import { variantProfile } from '../../../../test/helpers/listener-harness.js';
import { TOTAL_CAP } from '../store.js';
import { createSqliteStore } from './sqlite-store.js';

test('search totals are exact up to the cap and capped beyond it; URL substrings of any length match exactly', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bitville-search-'));
  const store = createSqliteStore({ file: join(dir, 'listener.db') });
  const t0 = 1_760_000_000;
  try {
    const n = TOTAL_CAP + 300;
    const records = Array.from({ length: n }, (_, i) => {
      const uri = i % 100 === 0 ? `/rare_%/${i}` : i % 2 === 0 ? `/even/${i}` : `/odd/${i}`;
      const p = variantProfile({ id: `s-${i}`, uri, ts: t0 + i, status: i % 10 === 0 ? 500 : 200, host: `web-${i % 4}`, ms: i });
      return extractRecord(p, Buffer.from(JSON.stringify(p)));
    });
    for (let at = 0; at < n; at += 500) await store.insertBatch(records.slice(at, at + 500));
    const search = (q: Partial<Parameters<typeof store.search>[0]>) => store.search({ projects: ['project-a'], limit: 5, ...q });

    const all = await search({});
    assert.deepEqual([all.total, all.total_capped], [TOTAL_CAP, true]);
    assert.deepEqual(all.items.map((r) => r.correlation_id), ['s-1299', 's-1298', 's-1297', 's-1296', 's-1295']);
    const even = await search({ url: '/even/' });
    assert.deepEqual([even.total, even.total_capped], [650 - 13, false]); // even, minus the rare multiples of 100
    const errorsOnOneHost = await search({ status: 500, host: 'web-2' });
    assert.deepEqual([errorsOnOneHost.total, errorsOnOneHost.total_capped], [65, false]); // i % 10 == 0 and i % 4 == 2
    const slowRecent = await search({ minMs: 1000, from: t0 + 1200 });
    assert.deepEqual([slowRecent.total, slowRecent.items[0]?.correlation_id], [100, 's-1299']);

    // One and two characters, and LIKE's own wildcards, are literal substrings.
    assert.equal((await search({ url: '%' })).total, 13);
    assert.equal((await search({ url: '_%' })).total, 13);
    assert.equal((await search({ url: 'r' })).total, 13);
    assert.equal((await search({ url: '/1' })).total, 1 + 10 + 100 + 300); // numbers that start with 1
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
