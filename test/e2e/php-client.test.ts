/**
 * The whole path with real PHP: test app under `php -S` → client include → daemon socket →
 * listener (SQLite) → read API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { tempDir } from '../helpers/daemon-process.js';
import { waitFor } from '../helpers/wait-for.js';
import { listenerApi, phpHasExtension, phpMissing, startPhpApp, startStack, type PhpApp } from './php-harness.js';

const skip = phpMissing();
const TOKEN = 'php-e2e-token';
const PROJECT = 'shop';

describe('PHP client through daemon and listener', { skip }, () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let app: PhpApp;
  let api: ReturnType<typeof listenerApi>;

  before(async () => {
    const dir = tempDir('bitville-php-');
    stack = await startStack(dir, TOKEN);
    app = await startPhpApp(dir, {
      BITVILLE_APM_PROJECT_NAME: PROJECT,
      BITVILLE_APM_DAEMON_SOCKET_PATH: stack.daemon.socketPath,
      BITVILLE_APM_INBOX_PATH: join(dir, 'unused-inbox'),
      BITVILLE_APM_PROFILING_THRESHOLD_MS: '250',
      BITVILLE_APM_PROFILER: 'none',
    });
    api = listenerApi(stack.listener.url, TOKEN);
  });

  after(async () => {
    await app?.stop();
    await stack?.stop();
  });

  test('slow requests arrive in the listener with their SQL queries and timings; fast ones do not', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await app.get('/fast?id=2')).status, 200);
    const slow = await app.get('/slow?ms=300');
    assert.equal(slow.status, 200);
    assert.match(slow.body, /report with 1 rows/);

    const [row] = await waitFor(async () => {
      const items = await api.requests(PROJECT, '/slow');
      return items.length > 0 ? items : null;
    }, { timeoutMs: 15_000, what: 'the slow request in the listener' });
    assert.ok(row);
    assert.equal(row.method, 'GET');
    assert.equal(row.status, 200);
    assert.ok(row.duration_ms >= 300, `duration ${row.duration_ms} ms`);
    assert.ok(row.sql_count >= 5, `sql_count ${row.sql_count}`);

    const p = await api.detail(PROJECT, row.correlation_id);
    const sql = p.sql as { queries: { query: string; duration_ms: number; stack_trace?: { file: string }[] }[]; total_queries: number; total_duration_ms: number };
    const cte = sql.queries.find((q) => q.query.startsWith('WITH RECURSIVE'));
    assert.ok(cte, 'the slow CTE query is captured');
    assert.ok(cte.duration_ms > 5, `CTE took ${cte.duration_ms} ms`);
    assert.ok(cte.stack_trace && cte.stack_trace.length > 0 && cte.stack_trace.every((f) => !f.file.includes('clients/php')), 'stack of application frames');
    assert.ok(sql.queries.some((q) => q.query === 'UPDATE products SET views = views + 1 WHERE id = 3'));
    assert.ok(sql.total_duration_ms >= cte.duration_ms);
    const timing = p.timing as { start_time: number; end_time: number; duration_ms: number };
    assert.ok(timing.end_time > timing.start_time && timing.duration_ms >= 300);
    assert.ok((p.memory as { peak_usage: number }).peak_usage > 0);
    assert.deepEqual(p.custom, { route: 'report.slow', user_id: 42, session_token: '[REDACTED]' });
    assert.equal((p.response as { content_type: string }).content_type, 'text/html; charset=UTF-8');

    await new Promise((r) => setTimeout(r, 500)); // give a wrongly sent fast profile time to arrive
    assert.deepEqual(await api.requests(PROJECT, '/fast'), [], 'fast requests are not sent');
  });

  test('secrets in headers, query string, POST body and SQL literals are redacted in what the listener stores', async () => {
    const res = await app.get('/login?ms=300&api_key=QS-SECRET-1&page=2', {
      method: 'POST',
      headers: { authorization: 'Bearer HDR-SECRET-2', cookie: 'sid=HDR-SECRET-3', 'x-api-key': 'HDR-SECRET-4', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=bob&password=POST-SECRET-5&access_token=POST-SECRET-6',
    });
    assert.equal(res.status, 200);
    const [row] = await waitFor(async () => {
      const items = await api.requests(PROJECT, '/login');
      return items.length > 0 ? items : null;
    }, { timeoutMs: 15_000, what: 'the login request in the listener' });
    assert.ok(row);
    const p = await api.detail(PROJECT, row.correlation_id);
    const text = JSON.stringify(p);
    for (const secret of ['QS-SECRET-1', 'HDR-SECRET-2', 'HDR-SECRET-3', 'HDR-SECRET-4', 'POST-SECRET-5', 'POST-SECRET-6']) {
      assert.ok(!text.includes(secret), `${secret} must not be stored`);
    }
    assert.ok(row.url.includes('api_key=[REDACTED]') && row.url.includes('page=2'), row.url);
    const req = p.request as { headers: Record<string, string>; post_data: Record<string, string>; get: Record<string, string> };
    assert.equal(req.headers.Authorization, '[REDACTED]');
    assert.equal(req.headers.Cookie, '[REDACTED]');
    assert.equal(req.post_data.user, 'bob');
    assert.equal(req.post_data.password, '[REDACTED]');
    assert.equal(req.get.page, '2');
    const queries = (p.sql as { queries: { query: string }[] }).queries.map((q) => q.query);
    assert.ok(queries.includes("SELECT id FROM users WHERE name = 'bob' AND password = '[REDACTED]'"), queries.join('\n'));
    assert.ok(queries.includes("INSERT INTO sessions (user_name, api_key, note) VALUES ('bob', '[REDACTED]', 'login')"), queries.join('\n'));
  });

  test('manual bitville_apm_sql() calls, 500 responses and fatal errors are reported', async () => {
    await app.get('/manual?ms=300');
    assert.equal((await app.get('/error?ms=300')).status, 500);
    assert.equal((await app.get('/fatal?ms=300')).status, 500);
    const find = (url: string) =>
      waitFor(async () => (await api.requests(PROJECT, url))[0] ?? null, { timeoutMs: 15_000, what: `${url} in the listener` });
    const manual = await api.detail(PROJECT, (await find('/manual')).correlation_id);
    assert.deepEqual((manual.sql as { queries: { query: string; duration_ms: number }[] }).queries.at(-1), {
      query: 'SELECT * FROM external_api_cache WHERE k = 7',
      duration_ms: 123.4,
      stack_trace: (manual.sql as { queries: { stack_trace: unknown }[] }).queries.at(-1)?.stack_trace,
    });
    assert.equal((await find('/error')).status, 500);
    const fatal = await api.detail(PROJECT, (await find('/fatal')).correlation_id);
    assert.match((fatal.fatal_error as { message: string }).message, /undefined_function_for_the_test/);
    const stats = await api.get<{ items: { key: string; error_rate: number }[] }>(`/api/v1/stats/endpoints?project=${PROJECT}`);
    assert.equal(stats.items.find((i) => i.key === 'GET /fatal')?.error_rate, 1);
  });
});

for (const profiler of ['tideways', 'excimer'] as const) {
  const ext = profiler === 'tideways' ? 'tideways_xhprof' : 'excimer';
  describe(`PHP client with the ${profiler} profiler`, { skip: skip || (!phpHasExtension(ext) && `no ${ext} extension`) }, () => {
    test(`slow functions from ${profiler} show up in the listener's function statistics`, async () => {
      const dir = tempDir('bitville-php-prof-');
      const stack = await startStack(dir, TOKEN);
      const app = await startPhpApp(dir, {
        BITVILLE_APM_PROJECT_NAME: profiler,
        BITVILLE_APM_DAEMON_SOCKET_PATH: stack.daemon.socketPath,
        BITVILLE_APM_PROFILING_THRESHOLD_MS: '250',
        BITVILLE_APM_PROFILER: profiler,
      });
      try {
        await app.get('/slow?ms=300');
        const api = listenerApi(stack.listener.url, TOKEN);
        const row = await waitFor(async () => (await api.requests(profiler, '/slow'))[0] ?? null, { timeoutMs: 15_000, what: 'the profiled request' });
        const p = await api.detail(profiler, row.correlation_id);
        const fns = (p.xhprof as { profiling: { top_functions: { name: string; calls: number; wall_time_ms: number; self_wall_time_ms: number }[] } }).profiling.top_functions;
        const report = fns.find((f) => f.name === 'build_report');
        assert.ok(report, `build_report in ${fns.map((f) => f.name).join(', ')}`);
        assert.ok(report.wall_time_ms >= 200, `build_report inclusive ${report.wall_time_ms} ms`);
        assert.ok(report.calls >= 1);
        if (profiler === 'tideways') {
          assert.equal(report.calls, 1);
          assert.ok(report.self_wall_time_ms < report.wall_time_ms, 'usleep is its own (exclusive) time');
        } else {
          assert.match((p.excimer as { folded: string }).folded, /build_report \d+/);
        }
        const stats = await api.get<{ items: { key: string }[] }>(`/api/v1/stats/functions?project=${profiler}&limit=50`);
        assert.ok(stats.items.some((i) => i.key === 'build_report'), JSON.stringify(stats.items.map((i) => i.key)));
      } finally {
        await app.stop();
        await stack.stop();
      }
    });
  });
}
