/**
 * The whole path with real PHP: test app under `php -S` → client include → daemon socket →
 * listener (SQLite) → read API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { tempDir } from '../helpers/daemon-process.js';
import { waitFor } from '../helpers/wait-for.js';
import { listenerApi, phpExtensionMissing, phpMissing, startPhpApp, startStack, type PhpApp } from './php-harness.js';

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

  test('the incoming traceparent and each query\'s start offset are in the profile, for OTLP export', async () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    assert.equal((await app.get('/slow?ms=300&t=traced', { headers: { traceparent: incoming, tracestate: 'vendor=1' } })).status, 200);
    assert.equal((await app.get('/slow?ms=300&t=untraced', { headers: { traceparent: '00-not-a-valid-header' } })).status, 200);
    const find = (url: string) =>
      waitFor(async () => (await api.requests(PROJECT, url))[0] ?? null, { timeoutMs: 15_000, what: `${url} in the listener` });
    const traced = await api.detail(PROJECT, (await find('t=traced')).correlation_id);
    const trace = traced.trace as Record<string, string>;
    assert.equal(trace.traceparent, incoming);
    assert.equal(trace.tracestate, 'vendor=1');
    assert.equal(trace.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(trace.flags, '01');
    assert.match(trace.span_id ?? '', /^[0-9a-f]{16}$/);
    assert.notEqual(trace.span_id, '00f067aa0ba902b7', 'the request has a span of its own, child of the caller');

    const untracedRow = await find('t=untraced');
    const untraced = await api.detail(PROJECT, untracedRow.correlation_id);
    const own = untraced.trace as Record<string, string>;
    assert.equal(own.traceparent, undefined, 'an invalid header is ignored');
    assert.equal(own.trace_id, untracedRow.correlation_id.replaceAll('-', ''), 'a new trace named after the correlation id');

    const queries = (traced.sql as { queries: { query: string; start_ms: number; duration_ms: number; driver?: string }[] }).queries;
    assert.ok(queries.every((q) => q.driver === 'sqlite'), 'each query names the PDO driver that ran it (db.system in OTLP)');
    const elapsed = traced.elapsed_ms as number;
    const cte = queries.find((q) => q.query.startsWith('WITH RECURSIVE'));
    const updates = queries.filter((q) => q.query.startsWith('UPDATE products'));
    assert.ok(cte && updates.length === 3);
    for (const q of queries) assert.ok(q.start_ms >= 0 && q.start_ms + q.duration_ms <= elapsed + 1, `${q.start_ms} + ${q.duration_ms} within ${elapsed} ms`);
    // The app runs the CTE, then a ~300 ms PHP function, then the updates: their offsets say so.
    assert.ok(updates.every((u) => u.start_ms >= cte.start_ms + cte.duration_ms + 250), JSON.stringify(queries.map((q) => [q.start_ms, q.duration_ms])));
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
    const last = (manual.sql as { queries: { query: string; duration_ms: number; start_ms: number; stack_trace: unknown }[] }).queries.at(-1);
    assert.deepEqual(last, {
      query: 'SELECT * FROM external_api_cache WHERE k = 7',
      duration_ms: 123.4,
      start_ms: last?.start_ms, // reported as ending when the call was made: may be clamped to 0
      stack_trace: last?.stack_trace,
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
  describe(`PHP client with the ${profiler} profiler`, { skip: skip || phpExtensionMissing(ext) }, () => {
    test(`slow functions from ${profiler} show up in the listener's function statistics`, async () => {
      const dir = tempDir('bitville-php-prof-');
      const stack = await startStack(dir, TOKEN);
      const app = await startPhpApp(dir, {
        BITVILLE_APM_PROJECT_NAME: profiler,
        BITVILLE_APM_DAEMON_SOCKET_PATH: stack.daemon.socketPath,
        BITVILLE_APM_PROFILING_THRESHOLD_MS: '250',
        BITVILLE_APM_PROFILER: profiler,
        BITVILLE_APM_PROFILER_SAMPLE_RATE: '1',
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
