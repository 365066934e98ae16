/**
 * The client under production conditions (issue 11): Debian's nginx + php-fpm8.2, workers as
 * www-data, clear_env = yes and the settings in env[...] lines written like the README's pool
 * snippet. Every kind of slow request reaches the listener with its status, duration, SQL and
 * error, and FPM logs nothing from the client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/daemon-process.js';
import { fpmMissing, openToWww, startFpmSite, type FpmSite } from '../helpers/php-fpm.js';
import { waitFor } from '../helpers/wait-for.js';
import { listenerApi, phpMissing, startStack, type ListedRequest } from './php-harness.js';

const skip = phpMissing() || fpmMissing();
const TOKEN = 'fpm-e2e-token';
const PROJECT = 'fpm';

describe('PHP client under nginx + PHP-FPM (www-data, clear_env)', { skip }, () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let site: FpmSite;
  let api: ReturnType<typeof listenerApi>;

  before(async () => {
    const dir = tempDir('bitville-fpm-');
    openToWww(dir);
    stack = await startStack(dir, TOKEN);
    const appData = join(dir, 'app');
    mkdirSync(appData);
    openToWww(appData, true);
    site = await startFpmSite(dir, {
      env: {
        APP_DB: `"${join(appData, 'app.sqlite')}"`,
        BITVILLE_APM_PROJECT_NAME: `"${PROJECT}"`,
        BITVILLE_APM_DAEMON_SOCKET_PATH: `"${stack.daemon.socketPath}"`,
        BITVILLE_APM_INBOX_PATH: `"${join(stack.daemon.dataDir, 'inbox')}"`,
        BITVILLE_APM_PROFILING_THRESHOLD_MS: '"200"',
        BITVILLE_APM_CONFIG: '"none"',
      },
      pool: ['php_admin_value[memory_limit] = 32M'],
    });
    api = listenerApi(stack.listener.url, TOKEN);
  });

  after(async () => {
    await site?.stop();
    await stack?.stop();
  });

  async function stored(path: string): Promise<{ row: ListedRequest; payload: Record<string, unknown> }> {
    const row = await waitFor(async () => (await api.requests(PROJECT, path))[0] ?? null, { timeoutMs: 15_000, what: `${path} in the listener` });
    return { row, payload: await api.detail(PROJECT, row.correlation_id) };
  }

  const fatal = (p: Record<string, unknown>) => p.fatal_error as { message: string; type: number } | undefined;

  test('every kind of slow request arrives with its status, duration, SQL and error', async () => {
    const cases = [
      { path: '/slow?ms=250', status: 200 },
      { path: '/exception?ms=250', status: 500 },
      { path: '/oom?ms=250', status: 500 },
      { path: '/fatal?ms=250', status: 500 },
      { path: '/exit?ms=250', status: 200 },
      { path: '/many-queries?n=5000&ms=200', status: 200 },
      { path: '/fast', status: 200 },
    ];
    for (const c of cases) assert.equal((await fetch(site.url + c.path)).status, c.status, c.path);

    const slow = await stored('/slow');
    assert.equal(slow.row.status, 200);
    assert.ok(slow.row.duration_ms >= 250, `duration ${slow.row.duration_ms}`);
    assert.ok(slow.row.sql_count >= 5);
    assert.equal(fatal(slow.payload), undefined);
    assert.equal((slow.payload.server as { sapi: string }).sapi, 'fpm-fcgi');

    const exception = await stored('/exception');
    assert.equal(exception.row.status, 500);
    assert.ok(exception.row.duration_ms >= 250);
    assert.match(fatal(exception.payload)?.message ?? '', /Uncaught RuntimeException: checkout failed for the test/);

    const oom = await stored('/oom');
    assert.equal(oom.row.status, 500);
    assert.ok(oom.row.duration_ms >= 250);
    assert.match(fatal(oom.payload)?.message ?? '', /Allowed memory size of \d+ bytes exhausted/);

    const undefinedFunction = await stored('/fatal');
    assert.equal(undefinedFunction.row.status, 500);
    assert.match(fatal(undefinedFunction.payload)?.message ?? '', /Call to undefined function undefined_function_for_the_test\(\)/);

    const exit = await stored('/exit');
    assert.equal(exit.row.status, 200);
    assert.ok(exit.row.duration_ms >= 250);
    assert.equal(fatal(exit.payload), undefined);

    const many = await stored('/many-queries');
    const sql = many.payload.sql as { queries: unknown[]; total_queries: number; queries_truncated: boolean };
    assert.equal(sql.total_queries, 5000 + 2, 'every query counted (plus the PRAGMA and the schema check of app_db)');
    assert.equal(sql.queries.length, 500, 'the first 500 kept with text and stack');
    assert.equal(sql.queries_truncated, true);
    assert.equal(many.row.sql_count, 5002);
    assert.ok(Buffer.byteLength(JSON.stringify(many.payload)) < 1024 * 1024, 'the profile stays well under a megabyte');

    assert.deepEqual(await api.requests(PROJECT, '/fast'), [], 'fast requests are not sent');
    assert.doesNotMatch(site.phpErrors(), /clients\/php|Bitville/, 'no warning or notice from the client');
    assert.doesNotMatch(site.fpmLog(), /WARNING|ERROR/, 'FPM logged no warning');
  });
});
