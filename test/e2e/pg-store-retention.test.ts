// Issue 12: retention on PostgreSQL drops whole day partitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ndjson, startTestListener, variantProfile } from '../helpers/listener-harness.js';
import { createTestDatabase } from '../helpers/pg-database.js';
import { waitFor } from '../helpers/wait-for.js';

const DAY = 86_400;
const day = (ts: number): string => new Date(ts * 1000).toISOString().slice(0, 10).replace(/-/g, '');

test('retention: profiles older than retentionDays vanish with their partition, newer ones stay, and a partition for tomorrow exists', async () => {
  const db = await createTestDatabase();
  const now = Date.now() / 1000;
  const ages = { old10: 10, old8: 8, young6: 6, young2: 2, today: 0 } as const;
  const profiles = Object.entries(ages).flatMap(([name, age]) => [0, 1, 2].map((k) => variantProfile({ id: `${name}-${k}`, ts: now - age * DAY - k, functions: [{ name: `f-${name}`, wall_time_ms: 5 }] })));
  profiles.push(variantProfile({ id: 'ancient', ts: 1_000_000_000 })); // no partition of its own: the DEFAULT one
  const activity = { source: 'pg_stat_activity', project: 'project-a', correlation_id: 'act-old', timestamp: now - 10 * DAY, data: { query: '/* correlation:old10-0 */ SELECT 1' } };

  // A long retention first, so the old days get partitions of their own.
  const first = await startTestListener({ store: { url: db.url, retentionDays: 30 } });
  assert.equal((await first.post('/v1/ingest', ndjson([...profiles, activity]))).json.accepted, profiles.length + 1);
  await first.close();
  const partitions = async (): Promise<string[]> => (await db.query<{ relname: string }>("SELECT relname FROM pg_class WHERE relname LIKE 'requests_p%' ORDER BY 1")).map((r) => r.relname);
  assert.ok((await partitions()).includes(`requests_p${day(now - 10 * DAY)}`));

  const l = await startTestListener({ store: { url: db.url, retentionDays: 7, retentionIntervalMs: 1000 } });
  try {
    await waitFor(async () => !(await partitions()).includes(`requests_p${day(now - 8 * DAY)}`), { timeoutMs: 20_000, what: 'the 8-day-old partition dropped' });
    await waitFor(async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM request_keys'))[0]?.n) === 9, { timeoutMs: 20_000, what: 'keys of removed profiles gone' });
    const left = await partitions();
    for (const age of [10, 8]) {
      for (const t of ['requests', 'request_bodies', 'db_activity', 'db_activity_links', 'rollups']) {
        assert.equal((await db.query(`SELECT 1 FROM pg_class WHERE relname = '${t}_p${day(now - age * DAY)}'`)).length, 0, `${t} of ${age} days ago dropped`);
      }
    }
    assert.ok(left.includes(`requests_p${day(now + DAY)}`), "tomorrow's partition exists");
    assert.ok(left.includes(`requests_p${day(now - 6 * DAY)}`), 'younger days stay');

    const page = await l.get('/api/v1/requests?limit=100', 'token-all');
    const found = (page.json.items as { correlation_id: string }[]).map((r) => r.correlation_id).sort();
    assert.deepEqual(found, ['today-0', 'today-1', 'today-2', 'young2-0', 'young2-1', 'young2-2', 'young6-0', 'young6-1', 'young6-2']);
    assert.equal((await l.get('/api/v1/requests/old10-0', 'token-all')).status, 404);
    assert.equal((await l.get('/api/v1/requests/ancient', 'token-all')).status, 404, 'old rows in the DEFAULT partition go too');
    assert.equal(Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM request_bodies'))[0]?.n), 9, 'and their payloads, the DEFAULT partition\'s included');
    assert.equal((await db.query('SELECT 1 FROM db_activity')).length, 0, 'activity of those days with them');
    const fns = await l.get(`/api/v1/stats/functions?from=${Math.floor(now - 29 * DAY)}&to=${Math.ceil(now + 60)}&limit=50`, 'token-all');
    assert.deepEqual((fns.json.items as { key: string }[]).map((f) => f.key).sort(), ['f-today', 'f-young2', 'f-young6'], 'and their rollups');
    const ready = (await l.get('/ready', null)).json as { checks: { retention: { last_deleted: number; last_error: string | null } } };
    assert.equal(ready.checks.retention.last_error, null);
  } finally {
    await l.close();
    await db.drop();
  }
});
