/**
 * Issue 13, end to end: PHP request A (the real client under `php -S`) holds a row lock for 2 s,
 * request B updates the same row; the pg-agent samples the private PostgreSQL and sends through
 * the real daemon to the real listener. B's page then says it waited on a lock held by A's
 * session and names A's request.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DbOverview, DbSessionPage, RequestDatabase } from '../../src/shared/protocol/db-api.js';
import { postgresMissing, startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
import { spawnPgAgent, type PgAgentHandle } from '../helpers/pg-agent-process.js';
import { waitFor } from '../helpers/wait-for.js';
import { REPO, listenerApi, phpHasExtension, phpMissing, startPhpApp, startStack, type PhpApp } from './php-harness.js';
import { checkDatabasePanel } from './pg-correlation-browser.js';

const TOKEN = 'pg-correlation-token';
const PG_APP = join(REPO, 'test', 'php-app', 'pg.php');
const skip = postgresMissing() || phpMissing() || (phpHasExtension('pdo_pgsql') ? false : 'php has no pdo_pgsql (apt-get install php-pgsql)');

describe('request <-> database correlation', { skip }, () => {
  let pgs: PrivatePostgres;
  let dir: string;
  let stack: Awaited<ReturnType<typeof startStack>>;
  let agent: PgAgentHandle;
  let app: PhpApp;
  let dsn: string;

  before(async () => {
    pgs = startPrivatePostgres();
    dir = mkdtempSync(join(tmpdir(), 'bitville-pgc-'));
    await pgs.sql('CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL); INSERT INTO accounts VALUES (1, 100)');
    stack = await startStack(dir, TOKEN);
    agent = await spawnPgAgent(dir, { database: pgs.url(), project: 'shop', send: { socket: stack.daemon.socketPath, flushIntervalMs: 100 }, intervals: { activityMs: 250, locksMs: 250, statementsMs: 0, systemMs: 0 }, logs: { path: pgs.logDir, pollMs: 200 } });
    dsn = `pgsql:host=${pgs.socketDir};dbname=postgres;user=root`;
    app = await startPhpApp(dir, {
      BITVILLE_APM_DAEMON_SOCKET_PATH: stack.daemon.socketPath,
      BITVILLE_APM_INBOX_PATH: join(dir, 'inbox'),
      BITVILLE_APM_PROJECT_NAME: 'shop',
      BITVILLE_APM_PROFILING_THRESHOLD_MS: '0',
      APP_PG_DSN: dsn,
      PHP_CLI_SERVER_WORKERS: '4', // A and B must run at the same time
    }, [], PG_APP);
  });
  after(async () => {
    await app?.stop();
    await agent?.stop();
    await stack?.stop();
    pgs?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('request B waited on a row lock held by request A: its page names A\'s session and correlation id (API and dashboard)', async () => {
    const holding = app.get('/pg/hold?ms=2000');
    await waitFor(async () => (await pgs.sql("SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'bitville-%' AND state = 'idle in transaction'")).rowCount === 1, { what: 'request A holding the lock' });
    const waiting = app.get('/pg/wait');
    const [a, b] = await Promise.all([holding, waiting]);
    assert.equal(a.status, 200, a.body);
    assert.equal(b.status, 200, b.body);
    assert.ok(b.ms >= 1000, `B waited for A (${Math.round(b.ms)} ms)`);
    const idA = (JSON.parse(a.body) as { correlation_id: string }).correlation_id;
    const idB = (JSON.parse(b.body) as { correlation_id: string }).correlation_id;

    const api = listenerApi(stack.listener.url, TOKEN);
    type Detail = { database: RequestDatabase; db_activity: unknown[] };
    const detail = await waitFor(
      async () => {
        const d = await api.get<Detail>(`/api/v1/requests/${idB}?project=shop`).catch(() => null);
        return d && d.database.locks.length > 0 && d.database.log_events.some((e) => e.kind === 'lock_wait') ? d : null;
      },
      { timeoutMs: 20_000, what: `B's request with its lock wait and log event` },
    );
    const db = detail.database;
    assert.ok(db.waits.some((w) => w.wait_event_type === 'Lock' && w.blocked_by.length === 1), JSON.stringify(db.waits));
    const lock = db.locks[0];
    assert.ok(lock);
    assert.equal(lock.locktype, 'transactionid');
    assert.equal(lock.mode, 'ShareLock');
    assert.ok((lock.waited_ms ?? 0) > 0);
    assert.equal(lock.held_by.length, 1);
    const holder = lock.held_by[0];
    assert.equal(holder?.correlation_id, idA);
    assert.equal(holder?.state, 'idle in transaction');
    assert.equal(holder?.request?.correlation_id, idA, 'the holder session\'s own PHP request');
    assert.match(holder?.request?.url ?? '', /\/pg\/hold/);
    assert.match(holder?.session_key ?? '', /^pg:\d+:\d+$/);
    assert.deepEqual(db.blockers.map((s) => s.correlation_id), [idA]);

    // A's page: the request it blocked; the session's page: everything it blocked.
    const aDetail = await api.get<Detail>(`/api/v1/requests/${idA}?project=shop`);
    assert.deepEqual(aDetail.database.blocked.map((s) => s.correlation_id), [idB]);
    const session = await api.get<DbSessionPage>(`/api/v1/db/sessions/${encodeURIComponent(holder?.session_key ?? '')}?project=shop`);
    assert.equal(session.session.correlation_id, idA);
    assert.deepEqual(session.blocked.map((x) => x.waiter.correlation_id), [idB]);
    assert.equal(session.blocked[0]?.waiter.request?.correlation_id, idB);

    // The overview: B counted under Lock in some minute, A's session the top blocker.
    const overview = await api.get<DbOverview>(`/api/v1/db/overview?project=shop&from=${Math.floor(Date.now() / 1000) - 600}`);
    assert.ok(overview.series.some((p) => (p.by_wait_event_type.Lock ?? 0) > 0), JSON.stringify(overview.series));
    assert.equal(overview.blockers[0]?.correlation_id, idA);
    assert.equal(overview.blockers[0]?.blocked_requests, 1);

    // The sqlcommenter prefix leaves the rankings' fingerprints as the application wrote the SQL.
    const queries = await api.get<{ items: { key: string }[] }>(`/api/v1/stats/queries?project=shop&from=${Math.floor(Date.now() / 1000) - 600}`);
    const keys = queries.items.map((q) => q.key);
    assert.ok(keys.includes('UPDATE accounts SET balance = balance - ? WHERE id = ?'), keys.join('\n'));
    assert.ok(!keys.some((k) => k.includes('bitville_id')), keys.join('\n'));

    await checkDatabasePanel(stack.listener.url, TOKEN, 'shop', idB, idA);
  });

  test('a persistent connection carries the request\'s name and comment, and the next request on it does not inherit them', async () => {
    const single = await startPhpApp(dir, { BITVILLE_APM_DAEMON_SOCKET_PATH: stack.daemon.socketPath, BITVILLE_APM_INBOX_PATH: join(dir, 'inbox'), APP_PG_DSN: dsn, PHP_CLI_SERVER_WORKERS: '1' }, [], PG_APP);
    try {
      type Seen = { correlation_id: string; application_name: string; query: string };
      const first = JSON.parse((await single.get('/pg/app-name?persistent=1')).body) as Seen;
      assert.equal(first.application_name, `bitville-${first.correlation_id}`);
      assert.match(first.query, new RegExp(`^/\\*bitville_id='${first.correlation_id}',traceparent='00-[0-9a-f]{32}-[0-9a-f]{16}-01'\\*/ SELECT query`));
      const ignored = JSON.parse((await single.get('/pg/app-name?persistent=1&ignore=1')).body) as Seen;
      assert.ok(!ignored.application_name.startsWith('bitville-'), `leaked: ${ignored.application_name}`);
      assert.doesNotMatch(ignored.query, /bitville_id/);
      const third = JSON.parse((await single.get('/pg/app-name?persistent=1', { headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } })).body) as Seen;
      assert.equal(third.application_name, `bitville-${third.correlation_id}`);
      assert.match(third.query, /traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01'/, 'the incoming trace id is reused');
    } finally {
      await single.stop();
    }
    const off = await startPhpApp(dir, { BITVILLE_APM_DAEMON_SOCKET_PATH: stack.daemon.socketPath, BITVILLE_APM_INBOX_PATH: join(dir, 'inbox'), APP_PG_DSN: dsn, BITVILLE_APM_PG_SQL_COMMENT: 'false' }, [], PG_APP);
    try {
      const seen = JSON.parse((await off.get('/pg/app-name')).body) as { correlation_id: string; application_name: string; query: string };
      assert.equal(seen.application_name, `bitville-${seen.correlation_id}`);
      assert.match(seen.query, /^SELECT query/, 'pg_sql_comment = false: no comment');
    } finally {
      await off.stop();
    }
  });
});
