import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ndjson, startTestListener, variantProfile, type TestListener } from '../../../test/helpers/listener-harness.js';

/** A body with profiles, a broken line and a blank one; line numbers depend on `n`. */
function batch(tag: string, n: number, ts: number): { body: string; brokenLine: number } {
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify(variantProfile({ id: `${tag}-${i}`, uri: `/pipe/${i % 5}`, ms: 10 + i, ts })));
  const brokenLine = 1 + (n % 7);
  lines.splice(brokenLine - 1, 0, '{"not json');
  lines.push('');
  return { body: lines.join('\n') + '\n', brokenLine };
}

describe('POST /v1/ingest with many batches in flight (gzip, parse workers)', () => {
  let l: TestListener;
  before(async () => {
    l = await startTestListener();
  });
  after(async () => l.close());

  test('each concurrent batch gets its own per-line answer and is stored whole', async () => {
    const ts = Date.now() / 1000 - 30;
    const batches = Array.from({ length: 10 }, (_, b) => batch(`c${b}`, 40 + b * 9, ts));
    const answers = await Promise.all(batches.map((b) => l.post('/v1/ingest', b.body, { gzip: true })));
    answers.forEach((res, b) => {
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { accepted: 40 + b * 9, duplicates: 0, rejected: [{ line: batches[b]?.brokenLine, error: 'invalid_json' }] });
    });
    const total = batches.reduce((n, _, b) => n + 40 + b * 9, 0);
    const stats = (await l.get('/api/v1/stats/endpoints?project=project-a&limit=100')).json as { items: { count: number }[] };
    assert.equal(stats.items.reduce((n, r) => n + r.count, 0), total);
  });

  test('a storage failure in the middle of a batch answers 503, stores none of it, and a retry stores it once', async () => {
    const ts = Date.now() / 1000 - 20;
    const key = encodeURIComponent('GET /fail/{id}');
    const body = (tag: string): string => ndjson(Array.from({ length: 30 }, (_, i) => variantProfile({ id: `${tag}-${i}`, uri: `/fail/${i}`, ms: 100 + i, ts, functions: [{ name: 'Fail::f', wall_time_ms: 5 }] })));
    assert.equal((await l.post('/v1/ingest', body('first'), { gzip: true })).status, 200);

    // Fail at the function rollups, i.e. after the batch's request and payload rows and its endpoint rollups were written.
    const db = new Database(join(l.dir, 'listener.db'));
    db.exec("CREATE TRIGGER fail_rollups BEFORE INSERT ON rollups WHEN NEW.kind = 'f' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
    db.exec("CREATE TRIGGER fail_rollup_updates BEFORE UPDATE ON rollups WHEN NEW.kind = 'f' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
    const failed = await l.post('/v1/ingest', body('second'), { gzip: true });
    assert.equal(failed.status, 503);
    assert.equal(failed.headers.get('retry-after'), '5');
    assert.equal(failed.json.error, 'store_unavailable');
    const found = (await l.get('/api/v1/requests?project=project-a&url=/fail/&limit=100')).json as { total: number };
    assert.equal(found.total, 30, 'nothing of the failed batch is visible');
    db.exec('DROP TRIGGER fail_rollups');
    db.exec('DROP TRIGGER fail_rollup_updates');
    db.close();

    const retried = await l.post('/v1/ingest', body('second'), { gzip: true });
    assert.deepEqual(retried.json, { accepted: 30, duplicates: 0, rejected: [] });
    const detail = (await l.get(`/api/v1/stats/key?project=project-a&kind=endpoints&key=${key}`)).json as { count: number; histogram: { count: number }[] };
    assert.equal(detail.count, 60);
    // The histogram must not keep samples of the rolled-back attempt (the writer's cached histograms are dropped).
    assert.equal(detail.histogram.reduce((n, b) => n + b.count, 0), 60);
  });
});
