import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { ndjson, startTestListener, variantProfile, type TestListener } from '../../../test/helpers/listener-harness.js';

const LINE_MAX = 256 * 1024;
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deepLine = (id: string, depth: number) => `{"correlation_id":"${id}","project":"project-a","x":${nested(depth - 1)}}`;

describe('ingest limits: nesting depth, correlation id length, line size, concurrent inflation', () => {
  let l: TestListener;
  before(async () => {
    l = await startTestListener({ limits: { maxLineBytes: LINE_MAX, maxInflatingBodies: 1 } });
  });
  after(async () => l.close());

  test('NDJSON lines nested deeper than 64, with a correlation_id over 128 characters or over limits.maxLineBytes are rejected one by one, the rest stored', async () => {
    const big = JSON.stringify(variantProfile({ id: 'lim-big', uri: `/lim/${'x'.repeat(LINE_MAX)}` }));
    const body = [
      JSON.stringify(variantProfile({ id: 'lim-1', uri: '/lim/1' })),
      deepLine('lim-deep', 65),
      deepLine('lim-64', 64),
      JSON.stringify(variantProfile({ id: 'i'.repeat(129), uri: '/lim/long' })),
      JSON.stringify(variantProfile({ id: 'i'.repeat(128), uri: '/lim/128' })),
      big,
      JSON.stringify(variantProfile({ id: 'lim-2', uri: '/lim/2' })),
    ].join('\n');
    for (const gzip of [false, true]) {
      const res = await l.post('/v1/ingest', body, { gzip });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json.rejected, [
        { line: 2, error: 'too_deep' },
        { line: 4, error: 'id_too_long' },
        { line: 6, error: 'line_too_large' },
      ]);
      assert.equal((res.json.accepted as number) + (res.json.duplicates as number), 4);
    }
    const page = (await l.get('/api/v1/requests?project=project-a&url=/lim/&limit=10')).json as { items: { correlation_id: string }[] };
    assert.deepEqual(page.items.map((i) => i.correlation_id.slice(0, 10)).sort(), ['iiiiiiiiii', 'lim-1', 'lim-2']);
    const metrics = await (await fetch(`${l.url}/metrics`)).text();
    assert.match(metrics, /ingest_rejected_total\{error_code="too_deep"\} 2/);
    assert.match(metrics, /ingest_rejected_total\{error_code="line_too_large"\} 2/);
  });

  test('a batch of only a 100,000-deep line gets its per-line answer, not a crash or a 400', async () => {
    const res = await l.post('/v1/ingest', `${deepLine('abyss', 100_000)}\n`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { accepted: 0, duplicates: 0, rejected: [{ line: 1, error: 'too_deep' }] });
  });

  test('single-object routes answer 400 too_deep and id_too_long, 413 line_too_large, plain or gzip', async () => {
    const big = JSON.stringify(variantProfile({ id: 'single-big', uri: `/s/${'y'.repeat(LINE_MAX)}` }));
    const cases: [string, string, number, string][] = [
      ['/ingest/php', deepLine('single-deep', 65), 400, 'too_deep'],
      ['/api/profiling', JSON.stringify(variantProfile({ id: 's'.repeat(129) })), 400, 'id_too_long'],
      ['/ingest/postgres', JSON.stringify({ source: 'pg_stat_activity', correlation_id: 'p'.repeat(129) }), 400, 'id_too_long'],
      ['/ingest/php', big, 413, 'line_too_large'],
    ];
    for (const [route, body, status, error] of cases) {
      for (const gzip of [false, true]) {
        const res = await l.post(route, body, { gzip, headers: { 'Content-Type': 'application/json' } });
        assert.equal(res.status, status, `${route} ${error} gzip=${gzip}`);
        assert.equal(res.json.error, error);
        assert.equal(res.json.success, false);
        assert.equal(typeof res.json.message, 'string');
      }
    }
  });

  test('a correlation id of 128 characters (percent-encoded: 768) is reachable by its detail URL; longer paths answer 414 uri_too_long', async () => {
    const id = 'é'.repeat(128);
    assert.equal((await l.post('/v1/ingest', ndjson([variantProfile({ id, uri: '/accent' })]))).json.accepted, 1);
    const detail = await l.get(`/api/v1/requests/${encodeURIComponent(id)}`);
    assert.equal(detail.status, 200);
    assert.equal(detail.json.correlation_id, id);
    const tooLong = await l.get(`/api/v1/requests/${'z'.repeat(5000)}`);
    assert.equal(tooLong.status, 414);
    assert.equal(tooLong.json.error, 'uri_too_long');
  });

  test('gzip bodies over limits.maxInflatingBodies are answered 503 busy with Retry-After, and a retry is taken', async () => {
    // Each inflates to 24 MiB (one line, rejected as too large), slow enough that the others arrive meanwhile.
    const slow = gzipSync(Buffer.concat([Buffer.from('{"pad":"'), Buffer.alloc(24 * 1024 * 1024, 0x61), Buffer.from('"}\n')]));
    const answers = await Promise.all(Array.from({ length: 4 }, () => l.post('/v1/ingest', slow, { headers: { 'Content-Encoding': 'gzip' } })));
    const busy = answers.filter((a) => a.status === 503);
    assert.ok(busy.length >= 1, `statuses ${answers.map((a) => a.status).join(',')}`);
    for (const b of busy) {
      assert.equal(b.json.error, 'busy');
      assert.equal(b.headers.get('retry-after'), '1');
    }
    for (const a of answers.filter((x) => x.status !== 503)) assert.deepEqual(a.json.rejected, [{ line: 1, error: 'line_too_large' }]);
    const retry = await l.post('/v1/ingest', ndjson([variantProfile({ id: 'after-busy', uri: '/after-busy' })]), { gzip: true });
    assert.equal(retry.json.accepted, 1);
    assert.match(await (await fetch(`${l.url}/metrics`)).text(), /bitville_listener_ingest_busy_total [1-9]/);
  });
});
