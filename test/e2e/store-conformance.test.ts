// Issue 12's conformance suite: the same data ingested through the real HTTP listener into SQLite
// and into PostgreSQL, then every read-API answer compared. Cursors are opaque (row ids differ
// between stores), so pages are compared by following them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureText, ndjson, startTestListener, variantProfile, type TestListener } from '../helpers/listener-harness.js';
import { itemsOf, sameAnswers } from '../helpers/compare-listeners.js';
import { createTestDatabase } from '../helpers/pg-database.js';
import { variedProfiles } from '../helpers/varied-profiles.js';

const HOUR = 3600;
/** Data spans the last two and a half hours: hourly and minute rollups, and the edges between. */
const NOW = Math.floor(Date.now() / 1000);
const BASE = Math.floor(NOW / HOUR) * HOUR - 2 * HOUR + 17;
const WINDOWS = [
  { from: BASE - 60, to: NOW + 60 },
  { from: BASE + 1500, to: BASE + HOUR + 600 },
  { from: NOW - 600, to: NOW + 60 },
];

const profiles = (n: number, prefix: string, project: string): Record<string, unknown>[] => variedProfiles(n, prefix, project, BASE, NOW, 7 + prefix.charCodeAt(0));

/** pg-agent records: request a-5's session waits on a lock held by a-4's session (pid 901). */
function lockRecords(): Record<string, unknown>[] {
  const holder = { pid: 901, session_key: 'pg:901:1764150000', application_name: 'bitville-a-4', state: 'idle in transaction', query: 'UPDATE t SET a = 1' };
  const waiter = { pid: 902, session_key: 'pg:902:1764150001', application_name: 'bitville-a-5', state: 'active', query: "/*bitville_id='a-5',traceparent='00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'*/ UPDATE t SET a = 2" };
  return [0, 1].flatMap((k) => [
    { source: 'pg_stat_activity', project: 'project-a', correlation_id: `pg-conf-act-${k}`, timestamp: BASE + 200 + k, data: { by_wait_event_type: { Lock: 1, CPU: 2 }, sessions: [{ ...waiter, wait_event_type: 'Lock', wait_event: 'transactionid', blocked_by: [901], state_ms: 800 + k * 1000 }] } },
    { source: 'pg_locks', project: 'project-a', correlation_id: `pg-conf-lock-${k}`, timestamp: BASE + 200 + k, data: { waits: [{ ...waiter, locktype: 'transactionid', mode: 'ShareLock', relation: null, transactionid: '725', waiting_ms: 800 + k * 1000, blocked_by: [holder] }], blockers: [{ ...holder, blocked_pids: [902] }], count: 1 } },
  ]);
}

interface Pair {
  sqlite: TestListener;
  pg: TestListener;
}
const pair = {} as Pair;
let drop: () => Promise<void> = async () => undefined;

/** Both listeners get the same request; their answers (status and body) must match. */
async function bothPost(path: string, body: string, o: { token?: string; gzip?: boolean; headers?: Record<string, string> } = {}): Promise<unknown> {
  const a = await pair.sqlite.post(path, body, o);
  const b = await pair.pg.post(path, body, o);
  const strip = (j: Record<string, unknown>): Record<string, unknown> => {
    const { row_id: _r, ...rest } = j; // row ids are each store's own
    return rest;
  };
  assert.deepEqual({ status: b.status, json: strip(b.json) }, { status: a.status, json: strip(a.json) }, `POST ${path}`);
  return a.json;
}

/** Same answer from both stores for each path; returns the SQLite answers for extra checks. */
const same = (paths: readonly string[], token = 'token-all'): Promise<unknown[][]> => sameAnswers(pair.sqlite, pair.pg, paths, token);
const items = itemsOf;

describe('the same data in SQLite and in PostgreSQL', () => {
  before(async () => {
    const db = await createTestDatabase();
    drop = db.drop;
    // Long retention: the fixtures are from 2025 and must stay for the comparison.
    pair.sqlite = await startTestListener({ store: { retentionDays: 3650 } });
    pair.pg = await startTestListener({ store: { url: db.url, retentionDays: 3650 } });

    const a = profiles(300, 'a', 'project-a');
    await bothPost('/v1/ingest', ndjson(a.slice(0, 200)), { gzip: true });
    // A retry overlapping the first batch: new lines are stored, old ones counted as duplicates.
    await bothPost('/v1/ingest', ndjson(a.slice(150, 300)), { gzip: true });
    await bothPost('/v1/ingest', ndjson(profiles(60, 'b', 'project-b')), { gzip: true, token: 'token-all' });
    await bothPost('/v1/ingest', ndjson(profiles(20, 'z', 'Zeta')), { token: 'token-all' });
    // Far from today: before any partition and after the ones created ahead.
    await bothPost('/v1/ingest', ndjson([variantProfile({ id: 'old-1', ts: 1_000_000_000 }), variantProfile({ id: 'future-1', ts: NOW + 40 * 86_400 })]));
    // The PHP agent's own shape, its Postgres-agent activity, and activity over NDJSON linking to a profile.
    await bothPost('/ingest/php', fixtureText('php-agent-original-shape.json'), { headers: { 'Content-Type': 'application/json' } });
    await bothPost('/ingest/postgres', fixtureText('postgres-agent-activity.json'), { headers: { 'Content-Type': 'application/json' } });
    const activity = [0, 1, 2].map((k) => ({ source: 'pg_stat_activity', project: 'project-a', correlation_id: `act-${k}`, timestamp: BASE + 100 + k, data: { sessions: [{ application_name: 'bitville-a-3', query: '/* correlation:a-3 */ SELECT 1' }] } }));
    await bothPost('/v1/ingest', ndjson(activity));
    await bothPost('/v1/ingest', ndjson(activity)); // duplicates
    await bothPost('/v1/ingest', ndjson(lockRecords()));
    await bothPost('/api/profiling', JSON.stringify(variantProfile({ id: 'compat-1', ts: BASE + 50 })), { headers: { 'Content-Type': 'application/json' } });
    await bothPost('/v1/ingest', 'not json\n{"also": "no correlation id", "project": "project-a", "timestamp": ' + (BASE + 7) + '}\n');
  });
  after(async () => {
    await pair.sqlite?.close();
    await pair.pg?.close();
    await drop();
  });

  test('projects: the list, for a token of all projects and for a token of some', async () => {
    const [all] = await same(['/api/v1/projects?x=1']);
    assert.equal(items(all).length, 4);
    await same(['/api/v1/projects?x=1'], 'token-a');
    await same(['/api/v1/projects?x=1'], 'token-b');
  });

  test('search with each filter, alone and combined, paged by cursor', async () => {
    const w = WINDOWS[1] as { from: number; to: number };
    const paths = [
      '/api/v1/requests?limit=37',
      '/api/v1/requests?project=project-a&limit=50',
      '/api/v1/requests?project=project-b&limit=1000',
      '/api/v1/requests?url=products&limit=40',
      '/api/v1/requests?url=PRODUCTS%2F4&limit=40',
      '/api/v1/requests?url=50%25_&limit=40',
      // Case folds for ASCII letters only, in both stores: CAFé and MENü match /café/menü, CAFÉ does not.
      '/api/v1/requests?url=CAF%C3%A9&limit=40',
      '/api/v1/requests?url=CAF%C3%89&limit=40',
      '/api/v1/requests?q=MEN%C3%BC&limit=40',
      '/api/v1/requests?method=post&limit=40',
      '/api/v1/requests?status=500&limit=40',
      '/api/v1/requests?host=web-02&limit=40',
      '/api/v1/requests?min_ms=2000&limit=40',
      '/api/v1/requests?max_ms=10&limit=40',
      '/api/v1/requests?min_ms=100&max_ms=900&limit=40',
      `/api/v1/requests?from=${w.from}&to=${w.to}&limit=40`,
      `/api/v1/requests?to=${BASE + 600}&limit=40`,
      '/api/v1/requests?q=cart&limit=40',
      '/api/v1/requests?q=web-0&limit=40',
      '/api/v1/requests?q=%7Bid%7D&limit=40',
      '/api/v1/requests?q=a-17&limit=40',
      '/api/v1/requests?q=3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10&limit=40',
      `/api/v1/requests?project=project-a&method=GET&status=200&host=web-01&min_ms=5&from=${BASE}&to=${NOW + 60}&url=product&limit=10`,
      '/api/v1/requests?project=nobody&limit=10',
    ];
    const answers = await same(paths);
    assert.ok(items(answers[0]).length > 380, 'every profile is found by paging');
    const none = new Set(['/api/v1/requests?project=nobody&limit=10', '/api/v1/requests?url=CAF%C3%89&limit=40']);
    for (const [i, a] of answers.entries()) assert.equal(items(a).length > 0, !none.has(paths[i] as string), `${paths[i]} finds ${none.has(paths[i] as string) ? 'nothing' : 'something'}`);
    await same(['/api/v1/requests?limit=100', '/api/v1/requests?project=project-b&limit=10'], 'token-a');
  });

  test('request detail with payload, db_activity and comparison; unknown ids and other projects alike', async () => {
    const ids = ['a-3', 'a-17', 'a-150', 'a-299', 'b-5', 'z-1', 'compat-1', 'old-1', 'future-1', '3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10', 'nope'];
    const answers = await same(ids.map((id) => `/api/v1/requests/${id}?x=1`));
    const linked = answers[0]?.[0] as { db_activity: unknown[] };
    assert.equal(linked.db_activity.length, 3, 'a-3 has its three activity records');
    const compared = answers.map((a) => (a[0] as { comparison?: { sample_size: number; baseline_count: number } }).comparison);
    assert.ok(compared.filter((c) => c && c.sample_size > 0 && c.baseline_count > 0).length >= 5, 'most have a baseline to compare with');
    const fixture = answers[9]?.[0] as { db_activity: unknown[] };
    assert.equal(fixture.db_activity.length, 1, "the fixture's Postgres-agent record is linked");
    await same(['/api/v1/requests/a-3?project=project-a', '/api/v1/requests/a-3?project=project-b', '/api/v1/requests/b-5?x=1'], 'token-a');
  });

  test('database correlation: a request\'s locks, a blocking session\'s page and the database overview', async () => {
    const [detail, session, overview] = await same(['/api/v1/requests/a-5?project=project-a', '/api/v1/db/sessions/pg:901:1764150000?project=project-a', `/api/v1/db/overview?project=project-a&from=${BASE}&to=${BASE + 600}`]);
    const database = (detail?.[0] as { database: { locks: { held_by: { correlation_id: string }[] }[] } }).database;
    assert.equal(database.locks[0]?.held_by[0]?.correlation_id, 'a-4');
    assert.deepEqual((session?.[0] as { blocked: { waiter: { correlation_id: string } }[] }).blocked.map((b) => b.waiter.correlation_id), ['a-5']);
    assert.equal((overview?.[0] as { blockers: { session_key: string }[] }).blockers[0]?.session_key, 'pg:901:1764150000');
    await same(['/api/v1/db/sessions/pg:901:1764150000?project=project-b', `/api/v1/db/overview?from=${BASE}&to=${BASE + 600}`], 'token-a');
  });

  test('the three rankings over several windows, with limits that cut through ties', async () => {
    const paths: string[] = [];
    for (const w of WINDOWS) {
      for (const kind of ['endpoints', 'queries', 'functions']) {
        paths.push(`/api/v1/stats/${kind}?from=${w.from}&to=${w.to}`);
        paths.push(`/api/v1/stats/${kind}?project=project-a&from=${w.from}&to=${w.to}&limit=2`);
        paths.push(`/api/v1/stats/${kind}?project=project-b&from=${w.from}&to=${w.to}&limit=1`);
      }
    }
    const answers = await same(paths);
    assert.ok(items(answers[0]).length >= 5, 'endpoints are ranked');
    assert.ok(items(answers[2]).length === 1);
    await same(paths.slice(0, 3), 'token-b');
  });

  test('timeseries by minute and by hour, and one key over time', async () => {
    const paths: string[] = [];
    for (const w of WINDOWS) {
      paths.push(`/api/v1/stats/timeseries?from=${w.from}&to=${w.to}&step=60`);
      paths.push(`/api/v1/stats/timeseries?project=project-a&from=${w.from}&to=${w.to}&step=3600`);
      paths.push(`/api/v1/stats/timeseries?from=${w.from}&to=${w.to}&step=300`);
      paths.push(`/api/v1/stats/key?kind=endpoints&key=${encodeURIComponent('GET /products/{id}')}&from=${w.from}&to=${w.to}&step=60`);
      paths.push(`/api/v1/stats/key?kind=queries&key=${encodeURIComponent('SELECT * FROM users WHERE id = ?')}&from=${w.from}&to=${w.to}&step=3600`);
      paths.push(`/api/v1/stats/key?kind=functions&key=${encodeURIComponent('App\\Cart::total')}&project=project-a&from=${w.from}&to=${w.to}&step=600`);
    }
    const answers = await same(paths);
    const series = items(answers[0]) as { count: number }[];
    assert.ok(series.reduce((n, p) => n + p.count, 0) > 380, 'the series counts every profile in the window');
    assert.ok((answers[3]?.[0] as { count: number }).count > 0, 'the endpoint has samples');
  });
});
