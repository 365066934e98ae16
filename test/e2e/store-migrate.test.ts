// Issue 12: `bitville-apm store migrate --from sqlite:PATH --to postgres://…`, interrupted and rerun.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fixtureText, ndjson, startTestListener } from '../helpers/listener-harness.js';
import { itemsOf, sameAnswers } from '../helpers/compare-listeners.js';
import { CLI, runCli } from '../helpers/daemon-process.js';
import { createTestDatabase } from '../helpers/pg-database.js';
import { variedProfiles } from '../helpers/varied-profiles.js';
import { waitFor } from '../helpers/wait-for.js';

const PROFILES = 10_000;

/** Runs `store migrate` and SIGKILLs it once its output matches `when`. */
async function killedWhen(args: string[], when: RegExp): Promise<string> {
  const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (c: Buffer) => (out += c.toString()));
  p.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => p.on('exit', () => resolve()));
  try {
    await waitFor(() => when.test(out), { timeoutMs: 60_000, what: `${when} in: ${out.slice(-500)}` });
  } finally {
    p.kill('SIGKILL');
    await exited;
  }
  return out;
}

test(`store migrate of ${PROFILES.toLocaleString('en')} profiles, killed twice and rerun, then run again: identical API answers, nothing copied twice`, async () => {
  const now = Math.floor(Date.now() / 1000);
  const from = now - 26 * 3600;
  const sqlite = await startTestListener({ store: { retentionDays: 3650 } });
  const db = await createTestDatabase();
  let pgListener: Awaited<ReturnType<typeof startTestListener>> | null = null;
  try {
    for (const [project, n] of [['project-a', PROFILES - 1000], ['project-b', 1000]] as const) {
      const all = variedProfiles(n, project, project, from, now, n);
      for (let at = 0; at < all.length; at += 500) assert.equal((await sqlite.post('/v1/ingest', ndjson(all.slice(at, at + 500)), { gzip: true, token: 'token-all' })).status, 200);
    }
    const activity = [1, 2, 3].map((k) => ({ source: 'pg_stat_activity', project: 'project-a', correlation_id: `act-${k}`, timestamp: now - 100 * k, data: { query: `/* correlation:project-a-${k} */ SELECT 1` } }));
    await sqlite.post('/v1/ingest', ndjson(activity));
    await sqlite.post('/ingest/php', fixtureText('php-agent-original-shape.json'), { headers: { 'Content-Type': 'application/json' } });
    await sqlite.stop(); // a migration copies a store nobody writes to any more

    const args = ['store', 'migrate', '--from', `sqlite:${join(sqlite.dir, 'listener.db')}`, '--to', db.url, '--batch', '250'];
    await killedWhen(args, /requests: [2-9]\d{3} of/);
    const midway = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM requests'))[0]?.n);
    assert.ok(midway > 0 && midway < PROFILES, `killed midway (${midway} rows)`);
    await killedWhen(args, /rollups: \d+ of/);

    const resumed = await runCli(args);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /requests: 0 copied, 0 already there/, 'the rows were all done: nothing re-read');
    const again = await runCli(args);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /requests: 0 copied.*\n\s+db_activity: 0 copied.*\n\s+rollups: 0 copied/);
    const rows = await db.query<{ requests: string; keys: string; series: string }>(
      "SELECT (SELECT count(*) FROM requests) AS requests, (SELECT count(*) FROM request_keys) AS keys, (SELECT sum(count) FROM rollups WHERE kind = 's' AND res = 60) AS series",
    );
    assert.deepEqual(rows[0], { requests: String(PROFILES + 1), keys: String(PROFILES + 1), series: String(PROFILES + 1) });

    const reopened = await startTestListener({ dataDir: sqlite.dir, store: { retentionDays: 3650 } });
    pgListener = await startTestListener({ store: { url: db.url, retentionDays: 3650 } });
    try {
      const w = `from=${from - 3600}&to=${now + 60}`;
      const answers = await sameAnswers(reopened, pgListener, [
        '/api/v1/projects?x=1',
        '/api/v1/requests?limit=1000',
        '/api/v1/requests?project=project-b&status=500&limit=50',
        '/api/v1/requests?url=checkout&min_ms=100&limit=100',
        '/api/v1/requests?q=web-02&limit=200',
        '/api/v1/requests/project-a-1?x=1',
        '/api/v1/requests/project-b-7?x=1',
        '/api/v1/requests/3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10?x=1',
        `/api/v1/stats/endpoints?${w}`,
        `/api/v1/stats/queries?${w}`,
        `/api/v1/stats/functions?${w}&limit=3`,
        `/api/v1/stats/timeseries?${w}&step=600`,
        `/api/v1/stats/key?kind=endpoints&key=${encodeURIComponent('GET /cart')}&${w}&step=3600`,
      ]);
      assert.equal(itemsOf(answers[1]).length, PROFILES + 1, 'every profile found by paging (and the fixture)');
      assert.equal((answers[5]?.[0] as { db_activity: unknown[] }).db_activity.length, 1, 'activity still linked');
    } finally {
      await reopened.close();
    }
  } finally {
    await pgListener?.close();
    await sqlite.close();
    await db.drop();
  }
});
