import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureText, ndjson, startTestListener, variantProfile, type TestListener } from '../../../test/helpers/listener-harness.js';

interface StatsAnswer {
  items: { key: string; count: number; total_ms: number; p50_ms: number; p95_ms: number; p99_ms: number; max_ms: number; error_rate?: number; self_ms?: number | null; calls?: number }[];
}

const HOUR_AGO = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3600; // a whole past hour, so both rollups are read

/** 200 quick product pages, 60 cart views, and 10 checkouts made slow by one query and one function, all in one minute. */
function seededDataset(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < 200; i++) {
    out.push(variantProfile({
      id: `p-${i}`, uri: `/products/${1000 + i}?ref=home`, ms: 40 + (i % 20), ts: HOUR_AGO + 60 + i * 10,
      queries: [{ query: `SELECT * FROM products WHERE id = ${1000 + i}`, duration_ms: 3 }],
      functions: [{ name: 'ProductController::show', wall_time_ms: 30 }, { name: 'Twig::render', wall_time_ms: 8 }],
    }));
  }
  for (let i = 0; i < 60; i++) {
    out.push(variantProfile({
      id: `c-${i}`, uri: '/cart', ms: 90, ts: HOUR_AGO + 100 + i * 30, status: i < 6 ? 500 : 200,
      queries: [{ query: `SELECT * FROM cart_items WHERE cart_id = '${i}abc'`, duration_ms: 20 }],
      functions: [{ name: 'CartController::view', wall_time_ms: 70 }],
    }));
  }
  for (let i = 0; i < 10; i++) {
    out.push(variantProfile({
      id: `slow-${i}`, method: 'POST', uri: `/checkout/3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a${String(10 + i)}/confirm`, ms: 3000 + i * 10, ts: HOUR_AGO + 1800 + i,
      queries: [
        { query: `SELECT * FROM orders WHERE user_id = ${500 + i} AND state IN ('new', 'open', 'held') FOR UPDATE`, duration_ms: 2500 },
        { query: 'SELECT 1', duration_ms: 0.2 },
      ],
      functions: [{ name: 'main()', wall_time_ms: 3000 }, { name: 'PaymentGateway::charge', wall_time_ms: 2800 }],
    }));
  }
  return out;
}

describe('read API over a seeded dataset', () => {
  let l: TestListener;
  const window = `project=project-a&from=${HOUR_AGO}&to=${HOUR_AGO + 7200}`;
  before(async () => {
    l = await startTestListener();
    const res = await l.post('/v1/ingest', ndjson(seededDataset()), { gzip: true });
    assert.equal(res.json.accepted, 270);
  });
  after(async () => l.close());

  test('statistics rank the endpoint, SQL fingerprint and function that were made slow first', async () => {
    const endpoints = (await l.get(`/api/v1/stats/endpoints?${window}`)).json as unknown as StatsAnswer;
    assert.equal(endpoints.items[0]?.key, 'POST /checkout/{uuid}/confirm');
    assert.equal(endpoints.items[0]?.count, 10);
    assert.ok(Math.abs((endpoints.items[0]?.p95_ms ?? 0) - 3090) / 3090 < 0.03, `p95 ${endpoints.items[0]?.p95_ms}`);
    assert.equal(endpoints.items[0]?.max_ms, 3090);
    const products = endpoints.items.find((e) => e.key === 'GET /products/{id}');
    assert.equal(products?.count, 200);
    assert.ok(Math.abs((products?.p50_ms ?? 0) - 49) / 49 < 0.03, `p50 ${products?.p50_ms}`);
    assert.equal(endpoints.items.find((e) => e.key === 'GET /cart')?.error_rate, 0.1);

    const queries = (await l.get(`/api/v1/stats/queries?${window}`)).json as unknown as StatsAnswer;
    assert.equal(queries.items[0]?.key, 'SELECT * FROM orders WHERE user_id = ? AND state IN (?) FOR UPDATE');
    assert.equal(queries.items[0]?.count, 10);
    assert.equal(queries.items[0]?.total_ms, 25000);
    assert.ok(queries.items.some((q) => q.key === 'SELECT * FROM products WHERE id = ?' && q.count === 200));

    const functions = (await l.get(`/api/v1/stats/functions?${window}`)).json as unknown as StatsAnswer;
    const ranked = functions.items.map((f) => f.key).filter((k) => k !== 'main()');
    assert.equal(ranked[0], 'PaymentGateway::charge');
    assert.equal(functions.items.find((f) => f.key === 'PaymentGateway::charge')?.calls, 10);
  });

  test('the time series shows the spike minute with its request count and p95', async () => {
    const series = (await l.get(`/api/v1/stats/timeseries?${window}&step=60`)).json as unknown as { items: { t: number; count: number; p95_ms: number | null }[] };
    assert.equal(series.items.length, 120);
    const worst = [...series.items].sort((a, b) => (b.p95_ms ?? 0) - (a.p95_ms ?? 0))[0];
    assert.equal(worst?.t, HOUR_AGO + 1800);
    assert.ok((worst?.count ?? 0) >= 10);
    assert.equal(series.items.reduce((s, p) => s + p.count, 0), 270);
  });

  test('one endpoint answers its latency histogram and p50/p95/p99 per step', async () => {
    const key = encodeURIComponent('GET /products/{id}');
    const res = await l.get(`/api/v1/stats/key?${window}&kind=endpoints&key=${key}&step=600`);
    assert.equal(res.status, 200);
    const d = res.json as { count: number; p50_ms: number; max_ms: number; step: number; histogram: { ms: number; count: number }[]; series: { t: number; count: number; p50_ms: number | null; p95_ms: number | null; p99_ms: number | null }[] };
    assert.equal(d.count, 200);
    assert.equal(d.step, 600);
    assert.equal(d.max_ms, 59);
    assert.ok(Math.abs(d.p50_ms - 49) / 49 < 0.03, `p50 ${d.p50_ms}`);
    assert.equal(d.histogram.reduce((s, b) => s + b.count, 0), 200);
    for (let i = 1; i < d.histogram.length; i++) assert.ok((d.histogram[i]?.ms ?? 0) > (d.histogram[i - 1]?.ms ?? 0));
    assert.ok(d.histogram.every((b) => b.ms >= 39 && b.ms <= 59), JSON.stringify(d.histogram));
    assert.equal(d.series.length, 12);
    assert.equal(d.series.reduce((s, p) => s + p.count, 0), 200);
    const busy = d.series.filter((p) => p.count > 0);
    assert.ok(busy.every((p) => (p.p50_ms ?? 0) <= (p.p95_ms ?? 0) && (p.p95_ms ?? 0) <= (p.p99_ms ?? 0)));
    assert.ok(d.series.filter((p) => p.count === 0).every((p) => p.p95_ms === null));
    const none = (await l.get(`/api/v1/stats/key?${window}&key=${encodeURIComponent('GET /nowhere')}`)).json as { count: number; histogram: unknown[] };
    assert.equal(none.count, 0);
    assert.deepEqual(none.histogram, []);
    assert.equal((await l.get(`/api/v1/stats/key?${window}`)).status, 400);
    assert.equal((await l.get(`/api/v1/stats/key?project=project-b&key=${key}`)).status, 403);
  });

  test('search pages newest first with a cursor and the same total on every page', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = (await l.get(`/api/v1/requests?project=project-a&url=/products/&limit=70${cursor ? `&cursor=${cursor}` : ''}`)).json as { items: { correlation_id: string; timestamp: number }[]; total: number; next_cursor: string | null };
      assert.equal(page.total, 200);
      for (let i = 1; i < page.items.length; i++) assert.ok((page.items[i - 1]?.timestamp ?? 0) >= (page.items[i]?.timestamp ?? 0));
      seen.push(...page.items.map((i) => i.correlation_id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.equal(new Set(seen).size, 200);
    assert.equal(seen[0], 'p-199');
    const filtered = (await l.get('/api/v1/requests?project=project-a&method=post&host=web-01&status=200&q=checkout')).json as { total: number };
    assert.equal(filtered.total, 10);
    assert.equal((await l.get('/api/v1/requests?cursor=garbage')).status, 400);
    assert.equal((await l.get('/api/v1/requests?limit=0')).status, 400);
  });

  test('request detail compares a slow request with its endpoint baseline', async () => {
    const baseline = Array.from({ length: 30 }, (_, i) => variantProfile({
      id: `r-${i}`, uri: `/report/${i}`, ms: 100 + i, ts: HOUR_AGO + 2000 + i,
      queries: [{ query: `SELECT * FROM report WHERE id = ${i}`, duration_ms: 10 }],
      functions: [{ name: 'Report::build', wall_time_ms: 80 }],
    }));
    const slow = variantProfile({
      id: 'r-slow', uri: '/report/99', ms: 1200, ts: HOUR_AGO + 2100,
      queries: [{ query: 'SELECT * FROM report WHERE id = 99', duration_ms: 12 }, { query: "SELECT * FROM audit_log WHERE report = 'r99'", duration_ms: 400 }],
      functions: [{ name: 'Report::build', wall_time_ms: 150 }, { name: 'Cache::miss', wall_time_ms: 900 }],
    });
    assert.equal((await l.post('/v1/ingest', ndjson([...baseline, slow]))).json.accepted, 31);
    const detail = await l.get('/api/v1/requests/r-slow?project=project-a');
    assert.equal(detail.status, 200);
    assert.equal(detail.json.endpoint, 'GET /report/{id}');
    const c = detail.json.comparison as { percentile_rank: number; ratio_to_p50: number; baseline_count: number; functions: { key: string; delta_ms: number }[]; queries: { key: string }[] };
    assert.equal(c.baseline_count, 31);
    assert.ok(c.percentile_rank > 95, `rank ${c.percentile_rank}`);
    assert.ok(c.ratio_to_p50 > 9 && c.ratio_to_p50 < 13, `ratio ${c.ratio_to_p50}`);
    assert.equal(c.functions[0]?.key, 'Cache::miss');
    assert.equal(c.functions[0]?.delta_ms, 900);
    assert.equal(c.queries[0]?.key, 'SELECT * FROM audit_log WHERE report = ?');
    assert.equal((await l.get('/api/v1/requests/no-such-id')).status, 404);
  });
});

describe('database activity correlation', () => {
  let l: TestListener;
  before(async () => {
    l = await startTestListener();
  });
  after(async () => l.close());

  test('links the postgres fixture to the PHP request by correlation id in db_activity', async () => {
    const php = fixtureText('php-agent-original-shape.json');
    assert.equal((await l.post('/v1/ingest', JSON.stringify(JSON.parse(php)))).json.accepted, 1);
    const pg = await l.post('/ingest/postgres', fixtureText('postgres-agent-activity.json'), { headers: { 'Content-Type': 'application/json' } });
    assert.equal(pg.status, 200);
    assert.equal(pg.json.success, true);
    assert.equal(pg.json.source, 'pg_stat_activity');
    // A second record over NDJSON that carries the id only in a SQL comment of pg_stat_statements.
    const statements = { project: 'myproject', correlation_id: '', source: 'pg_stat_statements', timestamp: 1764150002, data: { statements: [{ query: '/* correlation:3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10 */ UPDATE stock SET qty = qty - 1', calls: 1 }] } };
    assert.equal((await l.post('/v1/ingest', ndjson([statements]))).json.accepted, 1);
    assert.equal((await l.post('/v1/ingest', ndjson([statements]))).json.duplicates, 1);

    const detail = await l.get('/api/v1/requests/3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10?project=myproject');
    const activity = detail.json.db_activity as { source: string; record: { data: { sessions?: { pid: number }[] } } }[];
    assert.deepEqual(activity.map((a) => a.source), ['pg_stat_activity', 'pg_stat_statements']);
    assert.equal(activity[0]?.record.data.sessions?.[0]?.pid, 4411);
  });
});
