/**
 * Every key of DESIGN section 10 changes what the PHP client does, set through the INI file
 * (read on every request, so one server serves every variant), plus the precedence
 * constant > environment > INI > default.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/daemon-process.js';
import { inboxProfiles, phpHasExtension, phpMissing, startFakeDaemon, startPhpApp, type FakeDaemon, type PhpApp } from './php-harness.js';

const skip = phpMissing();

describe('PHP client settings (INI file)', { skip }, () => {
  let dir: string;
  let ini: string;
  let daemon: FakeDaemon;
  let other: FakeDaemon;
  let app: PhpApp;

  /** The INI for the next request: these keys over a base that sends every request > 100 ms to `daemon`. */
  const setIni = (keys: Record<string, string | number | boolean> = {}): void => {
    const all = { daemon_socket_path: daemon.path, inbox_path: join(dir, 'inbox'), profiling_threshold_ms: 100, profiler: 'none', ...keys };
    writeFileSync(ini, `[profiling]\n${Object.entries(all).map(([k, v]) => `${k} = ${typeof v === 'string' ? `"${v}"` : String(v)}`).join('\n')}\n`);
  };

  /** Runs one request and returns what the fake daemon received for it (null: nothing). */
  const sendOne = async (path = '/manual?ms=150', to: FakeDaemon = daemon): Promise<Record<string, unknown> | null> => {
    const before = to.messages().length;
    const r = await app.get(path);
    assert.ok(r.status === 200, `${path} answered ${r.status}: ${r.body}`);
    // The profile is written before php -S closes the response, so it has arrived or never will.
    await new Promise((res) => setTimeout(res, 100));
    return to.messages()[before] ?? null;
  };

  before(async () => {
    dir = tempDir('bitville-php-config-');
    ini = join(dir, 'profiling.ini');
    daemon = await startFakeDaemon(join(dir, 'daemon.sock'));
    other = await startFakeDaemon(join(dir, 'other.sock'));
    setIni();
    app = await startPhpApp(dir, { BITVILLE_APM_CONFIG: ini });
  });

  after(async () => {
    await app?.stop();
    await daemon?.stop();
    await other?.stop();
  });

  test('the INI file is read from BITVILLE_APM_CONFIG, [sections] and all', async () => {
    assert.ok(await sendOne(), 'a slow request is sent with the base INI');
  });

  test('a slow request is reported after the application\'s own shutdown functions: the status they set is in the profile', async () => {
    setIni();
    const before = daemon.messages().length;
    const r = await app.get('/late-status?ms=150');
    assert.equal(r.status, 503);
    await new Promise((res) => setTimeout(res, 100));
    const profile = daemon.messages()[before] as { response?: { status_code?: number } } | undefined;
    assert.equal(profile?.response?.status_code, 503, JSON.stringify(profile));
  });

  test('profiling_enabled = false sends nothing', async () => {
    setIni({ profiling_enabled: false });
    assert.equal(await sendOne(), null);
    assert.deepEqual(inboxProfiles(join(dir, 'inbox')), []);
  });

  test('profiling_threshold_ms: only requests at least that slow are sent', async () => {
    setIni({ profiling_threshold_ms: 400 });
    assert.equal(await sendOne('/manual?ms=150'), null);
    setIni({ profiling_threshold_ms: 50 });
    assert.equal((await sendOne('/manual?ms=150'))?.threshold_ms, 50);
  });

  test('project_name is the project field', async () => {
    setIni({ project_name: 'checkout-eu' });
    assert.equal((await sendOne())?.project, 'checkout-eu');
  });

  test('daemon_socket_path chooses the socket', async () => {
    setIni({ daemon_socket_path: other.path });
    assert.ok(await sendOne('/manual?ms=150', other), 'arrived at the other socket');
  });

  test('inbox_path is where profiles go when the socket fails', async () => {
    const inbox = join(dir, 'inbox-b');
    setIni({ daemon_socket_path: join(dir, 'nobody.sock'), inbox_path: inbox });
    assert.equal(await sendOne(), null);
    assert.equal(inboxProfiles(inbox).length, 1);
    rmSync(inbox, { recursive: true });
  });

  test('listener_timeout_ms bounds the send to a daemon that never reads', async () => {
    const stuck = await startFakeDaemon(join(dir, 'stuck.sock'), { read: false });
    try {
      setIni({ daemon_socket_path: stuck.path, inbox_path: join(dir, 'inbox-c'), listener_timeout_ms: 1200 });
      const long = await app.get('/big?ms=150');
      setIni({ daemon_socket_path: stuck.path, inbox_path: join(dir, 'inbox-c'), listener_timeout_ms: 20 });
      const short = await app.get('/big?ms=150');
      assert.ok(long.ms >= 1200 && short.ms < 1200, `1200 ms budget: ${long.ms.toFixed(0)} ms; 20 ms budget: ${short.ms.toFixed(0)} ms`);
    } finally {
      await stuck.stop();
    }
  });

  test('sql_capture_enabled = false leaves SQL out', async () => {
    setIni({ sql_capture_enabled: false });
    const p = await sendOne('/slow?ms=100');
    assert.ok(p && !('sql' in p));
  });

  test('sql_stack_trace_limit sets the frames per query (0 = none)', async () => {
    setIni({ sql_stack_trace_limit: 1 });
    const one = (await sendOne('/slow?ms=100'))?.sql as { queries: { stack_trace?: unknown[] }[] };
    assert.ok(one.queries.every((q) => q.stack_trace?.length === 1));
    setIni({ sql_stack_trace_limit: 0 });
    const none = (await sendOne('/slow?ms=100'))?.sql as { queries: { stack_trace?: unknown[] }[] };
    assert.ok(none.queries.length > 0 && none.queries.every((q) => !('stack_trace' in q)));
  });

  test('request_metadata_enabled = false leaves out headers, GET/POST and server info', async () => {
    setIni({ request_metadata_enabled: false });
    const req = (await sendOne('/manual?ms=150&x=1'))?.request as Record<string, unknown>;
    assert.deepEqual(Object.keys(req).sort(), ['method', 'query_string', 'timestamp', 'uri', 'url']);
  });

  test('profiler = none sends no profiler data; a named profiler that is not installed is none too', async () => {
    setIni({ profiler: 'none' });
    const p = await sendOne();
    assert.ok(p && !('xhprof' in p) && !('excimer' in p));
    if (!phpHasExtension('xhprof')) {
      setIni({ profiler: 'xhprof' });
      assert.equal(((await sendOne())?._meta as { profiler: string }).profiler, 'none');
    }
    if (phpHasExtension('excimer')) {
      setIni({ profiler: 'excimer', profiler_sample_rate: 1 });
      assert.ok('excimer' in ((await sendOne()) ?? {}));
    }
  });

  test('profiler_sample_rate: 0 starts no profiler; auto prefers excimer, which samples', async () => {
    setIni({ profiler: 'auto', profiler_sample_rate: 0 });
    const none = await sendOne();
    assert.ok(none && !('xhprof' in none) && !('excimer' in none), 'slow request still sent, without profiler data');
    assert.equal((none._meta as { profiler: string }).profiler, 'none');
    if (phpHasExtension('excimer')) {
      setIni({ profiler: 'auto', profiler_sample_rate: 1 });
      assert.equal(((await sendOne())?._meta as { profiler: string }).profiler, 'excimer');
    }
  });

  test('sample_rate: 0 sends no slow request, 0.5 about half', async () => {
    setIni({ sample_rate: 0 });
    assert.equal(await sendOne('/manual?ms=110'), null);
    setIni({ sample_rate: 0.5 });
    const before = daemon.messages().length;
    for (let i = 0; i < 16; i++) await app.get('/manual?ms=105');
    await new Promise((res) => setTimeout(res, 100));
    const sent = daemon.messages().length - before;
    assert.ok(sent > 0 && sent < 16, `${sent} of 16 sent at 0.5`);
  });
});

describe('PHP client settings precedence', { skip }, () => {
  test('constant > environment > INI file > default', async () => {
    const dir = tempDir('bitville-php-prec-');
    const ini = join(dir, 'profiling.ini');
    writeFileSync(ini, 'project_name = "from-ini"\nprofiling_threshold_ms = 111\nsample_rate = 0.25\nsql_stack_trace_limit = 2\n');
    const app = await startPhpApp(dir, {
      BITVILLE_APM_CONFIG: ini,
      BITVILLE_APM_PROJECT_NAME: 'from-env',
      BITVILLE_APM_PROFILING_THRESHOLD_MS: '222',
      BITVILLE_APM_SQL_STACK_TRACE_LIMIT: 'not a number',
      APP_CONSTANTS: JSON.stringify({ BITVILLE_APM_PROJECT_NAME: 'from-constant' }),
    });
    try {
      const info = JSON.parse((await app.get('/info')).body) as { config: Record<string, unknown> };
      assert.equal(info.config.project_name, 'from-constant');
      assert.equal(info.config.profiling_threshold_ms, 222);
      assert.equal(info.config.sample_rate, 0.25);
      assert.equal(info.config.sql_stack_trace_limit, 5, 'a value that does not parse falls back to the default');
      assert.equal(info.config.listener_timeout_ms, 50);
    } finally {
      await app.stop();
    }
  });
});
