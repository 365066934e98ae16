import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { fixtureText, ndjson, startTestListener, variantProfile, type TestListener } from '../../../test/helpers/listener-harness.js';

interface Page {
  items: { correlation_id: string; url: string; duration_ms: number; sql_count: number; sql_ms: number; status: number | null; host: string; method: string }[];
  total: number;
  next_cursor: string | null;
}

describe('POST /v1/ingest', () => {
  let l: TestListener;
  before(async () => {
    l = await startTestListener({ limits: { maxBodyBytes: 64 * 1024, linesPerSecond: 1000, burstLines: 1000 } });
  });
  after(async () => l.close());

  test('stores both payload variants and finds each by URL and duration', async () => {
    const original = fixtureText('php-agent-original-shape.json');
    const other = variantProfile({ id: 'variant-1', project: 'myproject', uri: '/catalog/shoes?page=2', ms: 2750, status: 503 });
    const res = await l.post('/v1/ingest', `${JSON.stringify(JSON.parse(original))}\n${JSON.stringify(other)}\n`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { accepted: 2, duplicates: 0, rejected: [] });

    const byUrl = (await l.get('/api/v1/requests?project=myproject&url=checkout/confirm')).json as unknown as Page;
    assert.equal(byUrl.total, 1);
    const php = byUrl.items[0];
    assert.equal(php?.correlation_id, '3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10');
    assert.equal(php?.duration_ms, 1234.56);
    assert.equal(php?.method, 'POST');
    assert.equal(php?.status, 200);
    assert.equal(php?.host, 'web-03');
    assert.equal(php?.sql_count, 37); // sql.summary.total_queries, not the 2 captured
    assert.equal(php?.sql_ms, 880.4);

    const byDuration = (await l.get('/api/v1/requests?project=myproject&min_ms=2000&max_ms=3000')).json as unknown as Page;
    assert.deepEqual(byDuration.items.map((i) => i.correlation_id), ['variant-1']);
    assert.equal(byDuration.items[0]?.url, '/catalog/shoes?page=2');
    assert.equal(byDuration.items[0]?.sql_count, 1);

    const both = (await l.get('/api/v1/requests?project=myproject&min_ms=1000')).json as unknown as Page;
    assert.equal(both.total, 2);
    const detail = await l.get('/api/v1/requests/3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10?project=myproject');
    assert.equal(detail.status, 200);
    assert.deepEqual(detail.json.payload, JSON.parse(original)); // stored unchanged, xhprof and _meta included
  });

  test('the same batch posted twice counts duplicates the second time and stores nothing new', async () => {
    const batch = ndjson(Array.from({ length: 20 }, (_, i) => variantProfile({ id: `dup-${i}`, uri: `/dup/${i}` })));
    const first = await l.post('/v1/ingest', batch, { gzip: true });
    assert.deepEqual(first.json, { accepted: 20, duplicates: 0, rejected: [] });
    const second = await l.post('/v1/ingest', batch, { gzip: true });
    assert.deepEqual(second.json, { accepted: 0, duplicates: 20, rejected: [] });
    const page = (await l.get('/api/v1/requests?project=project-a&url=/dup/&limit=100')).json as unknown as Page;
    assert.equal(page.total, 20);
    const stats = (await l.get(`/api/v1/stats/endpoints?project=project-a&from=${Date.now() / 1000 - 600}`)).json as unknown as { items: { key: string; count: number }[] };
    assert.equal(stats.items.find((s) => s.key === 'GET /dup/{id}')?.count, 20); // statistics did not double either
  });

  test('rejects garbage lines one by one and stores the rest of the batch', async () => {
    const good = (id: string) => JSON.stringify(variantProfile({ id, uri: '/mixed' }));
    const body = [good('mixed-1'), '{"broken": ', '[1, 2, 3]', '', good('mixed-2'), 'not json at all', JSON.stringify({ project: 'project-b', correlation_id: 'x' }), good('mixed-3')].join('\n');
    const res = await l.post('/v1/ingest', body);
    assert.equal(res.status, 200);
    assert.equal(res.json.accepted, 3);
    assert.deepEqual(res.json.rejected, [
      { line: 2, error: 'invalid_json' },
      { line: 3, error: 'not_object' },
      { line: 6, error: 'invalid_json' },
      { line: 7, error: 'project_not_allowed' },
    ]);
    const page = (await l.get('/api/v1/requests?project=project-a&url=/mixed')).json as unknown as Page;
    assert.deepEqual(page.items.map((i) => i.correlation_id).sort(), ['mixed-1', 'mixed-2', 'mixed-3']);
  });

  test('a line without correlation_id or project is stored under "default" and a re-send is a duplicate', async () => {
    const all = { token: 'token-all' };
    const line = JSON.stringify({ request: { uri: '/anonymous' }, elapsed_ms: 900 });
    assert.equal((await l.post('/v1/ingest', line, all)).json.accepted, 1);
    assert.equal((await l.post('/v1/ingest', line, all)).json.duplicates, 1);
    const page = (await l.get('/api/v1/requests?project=default', 'token-all')).json as unknown as Page;
    assert.equal(page.total, 1);
  });

  test('answers 400 when the body is not NDJSON at all, or not gzip as declared', async () => {
    const res = await l.post('/v1/ingest', 'hello\nworld\n');
    assert.equal(res.status, 400);
    assert.equal(res.json.error, 'not_ndjson');
    const empty = await l.post('/v1/ingest', '');
    assert.equal(empty.status, 400);
    const bad = await l.post('/v1/ingest', 'plain text', { headers: { 'Content-Encoding': 'gzip' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, 'bad_encoding');
  });

  test('answers 413 for a body over limits.maxBodyBytes, sent plain or expanding past it after gunzip', async () => {
    const big = ndjson([variantProfile({ id: 'big', uri: `/big/${'x'.repeat(70 * 1024)}` })]);
    const plain = await l.post('/v1/ingest', big);
    assert.equal(plain.status, 413);
    assert.equal(plain.json.error, 'body_too_large');
    const zipped = gzipSync(Buffer.from(big));
    assert.ok(zipped.length < 64 * 1024);
    const bomb = await l.post('/v1/ingest', zipped, { headers: { 'Content-Encoding': 'gzip' } });
    assert.equal(bomb.status, 413);
    const found = (await l.get('/api/v1/requests?project=project-a&url=/big/')).json as unknown as Page;
    assert.equal(found.total, 0);
  });

  test('answers 401 without a token or with an unknown one, and checks the token before reading the body', async () => {
    const line = ndjson([variantProfile({ id: 'auth-1' })]);
    const missing = await l.post('/v1/ingest', line, { token: null });
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await l.post('/v1/ingest', line, { token: 'nope' })).status, 401);
    assert.equal((await l.get('/api/v1/requests', null)).status, 401);
    assert.equal((await l.get('/api/v1/stats/endpoints', 'nope')).status, 401);
    assert.equal((await l.get('/api/v1/requests?url=auth', 'token-a')).json.total, 0);
  });

  test('a token for project A may neither write nor read project B', async () => {
    const write = await l.post('/v1/ingest', ndjson([variantProfile({ id: 'b-1', project: 'project-b', uri: '/b-only' })]), { token: 'token-a' });
    assert.deepEqual(write.json, { accepted: 0, duplicates: 0, rejected: [{ line: 1, error: 'project_not_allowed' }] });
    assert.equal((await l.post('/v1/ingest', ndjson([variantProfile({ id: 'b-2', project: 'project-b', uri: '/b-only' })]), { token: 'token-b' })).json.accepted, 1);

    assert.equal((await l.get('/api/v1/requests?project=project-b', 'token-a')).status, 403);
    assert.equal((await l.get('/api/v1/stats/endpoints?project=project-b', 'token-a')).status, 403);
    assert.equal((await l.get('/api/v1/requests/b-2?project=project-b', 'token-a')).status, 403);
    assert.equal((await l.get('/api/v1/requests/b-2', 'token-a')).status, 404); // exists, but not in A's projects
    const unscoped = (await l.get('/api/v1/requests?url=/b-only', 'token-a')).json as unknown as Page;
    assert.equal(unscoped.total, 0);
    const asB = (await l.get('/api/v1/requests?url=/b-only', 'token-b')).json as unknown as Page;
    assert.deepEqual(asB.items.map((i) => i.correlation_id), ['b-2']);
    const projects = (await l.get('/api/v1/projects', 'token-b')).json as { items: { project: string }[] };
    assert.deepEqual(projects.items.map((p) => p.project), ['project-b']);
  });

  test('single-object routes store the PHP fixture byte for byte and /api/profiling is an alias', async () => {
    const text = fixtureText('php-agent-original-shape.json').replace('3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10"', 'compat-0001"');
    const first = await l.post('/ingest/php', text, { headers: { 'Content-Type': 'application/json' } });
    assert.equal(first.status, 200);
    assert.equal(first.json.success, true);
    assert.equal(first.json.correlation_id, 'compat-0001');
    assert.equal(typeof first.json.row_id, 'number');
    const again = await l.post('/api/profiling', text, { headers: { 'Content-Type': 'application/json' } });
    assert.deepEqual(again.json, { success: true, row_id: first.json.row_id, correlation_id: 'compat-0001', duplicate: true });
    const notObject = await l.post('/ingest/php', '[1]');
    assert.equal(notObject.status, 400);
    assert.equal(notObject.json.success, false);
    const elsewhere = await l.post('/ingest/php', JSON.stringify({ project: 'project-b', correlation_id: 'z' }));
    assert.equal(elsewhere.status, 403);
  });
});

describe('rate limit', () => {
  let l: TestListener;
  before(async () => {
    l = await startTestListener({ limits: { linesPerSecond: 1, burstLines: 10 } });
  });
  after(async () => l.close());

  test('answers 429 with Retry-After once a token has spent its burst, while other tokens carry on', async () => {
    const batch = ndjson(Array.from({ length: 10 }, (_, i) => variantProfile({ id: `rl-${i}` })));
    assert.equal((await l.post('/v1/ingest', batch)).status, 200);
    const limited = await l.post('/v1/ingest', ndjson([variantProfile({ id: 'rl-x' })]));
    assert.equal(limited.status, 429);
    assert.equal(limited.json.error, 'rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1, `Retry-After was ${limited.headers.get('retry-after')}`);
    const other = await l.post('/v1/ingest', ndjson([variantProfile({ id: 'rl-b', project: 'project-b' })]), { token: 'token-b' });
    assert.equal(other.status, 200);
    const metrics = await (await fetch(`${l.url}/metrics`)).text();
    assert.match(metrics, /bitville_listener_ingest_rate_limited_total 1/);
  });
});
