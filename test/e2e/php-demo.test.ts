/**
 * `bitville-apm up --demo` (and `up` with a real PHP app): what a newcomer runs first.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, tempDir } from '../helpers/daemon-process.js';
import { spawnTracked } from '../helpers/tracked-process.js';
import { waitFor } from '../helpers/wait-for.js';
import { listenerApi, phpMissing, startPhpApp } from './php-harness.js';

interface UpInfo {
  socket: string;
  inbox: string;
  listenerUrl: string;
  token: string;
  phpInclude: string | null;
}

async function startUp(dir: string, extra: string[]): Promise<{ info: UpInfo; out: () => string; stop(): Promise<number | string> }> {
  const { proc, output: out, exited } = spawnTracked(process.execPath, [CLI, 'up', '--dir', dir, '--listen', '127.0.0.1:0', '--health', '127.0.0.1:0', ...extra]);
  await waitFor(() => out().includes('Bitville APM is up.'), { timeoutMs: 30_000, what: `up to print its summary; output so far:\n${out()}` });
  const info = JSON.parse(readFileSync(join(dir, 'up.json'), 'utf8')) as UpInfo;
  return {
    info,
    out,
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

test('up --demo fills the listener at once, with the slow endpoint ranked first by total time', async () => {
  const up = await startUp(tempDir('bitville-demo-'), ['--demo']);
  try {
    assert.match(up.out(), /demo: +sending synthetic PHP traffic/);
    const api = listenerApi(up.info.listenerUrl, up.info.token);
    const from = Math.floor(Date.now() / 1000) - 3600;
    const stats = await waitFor(async () => {
      const s = await api.get<{ items: { key: string; count: number; total_ms: number; error_rate: number }[] }>(`/api/v1/stats/endpoints?project=demo&from=${from}`);
      return s.items.reduce((n, i) => n + i.count, 0) >= 60 ? s : null;
    }, { timeoutMs: 20_000, what: 'the demo burst in the listener' });
    assert.equal(stats.items[0]?.key, 'GET /reports/monthly/{id}', JSON.stringify(stats.items.map((i) => i.key)));
    assert.ok(stats.items.length >= 5, 'a mix of endpoints');
    assert.ok(stats.items.some((i) => i.error_rate > 0), 'some errors');
    const queries = await api.get<{ items: { key: string }[] }>(`/api/v1/stats/queries?project=demo&from=${from}`);
    assert.match(queries.items[0]?.key ?? '', /^SELECT customer_id, sum\(total\)/);
    const fns = await api.get<{ items: { key: string }[] }>(`/api/v1/stats/functions?project=demo&from=${from}`);
    assert.ok(fns.items.some((f) => f.key === 'ReportBuilder::aggregate'));
    // and it keeps coming
    const before = stats.items.reduce((n, i) => n + i.count, 0);
    await waitFor(async () => {
      const s = await api.get<{ items: { count: number }[] }>(`/api/v1/stats/endpoints?project=demo&from=${from}`);
      return s.items.reduce((n, i) => n + i.count, 0) > before;
    }, { timeoutMs: 10_000, what: 'demo traffic after the burst' });
  } finally {
    assert.equal(await up.stop(), 0, 'up --demo stops cleanly on SIGTERM');
  }
});

test('up prints the PHP include; a real PHP app using it shows up in the listener', { skip: phpMissing() }, async () => {
  const dir = tempDir('bitville-up-php-');
  const up = await startUp(join(dir, 'state'), []);
  try {
    assert.ok(up.info.phpInclude?.endsWith('clients/php/bitville-apm.php'));
    assert.ok(up.out().includes(`require_once '${up.info.phpInclude}';`));
    const app = await startPhpApp(dir, {
      BITVILLE_APM_PROJECT_NAME: 'up-php',
      BITVILLE_APM_DAEMON_SOCKET_PATH: up.info.socket,
      BITVILLE_APM_INBOX_PATH: up.info.inbox,
    });
    try {
      await app.get('/slow?ms=600');
      await app.get('/fast');
      const api = listenerApi(up.info.listenerUrl, up.info.token);
      const rows = await waitFor(async () => {
        const r = await api.requests('up-php');
        return r.length > 0 ? r : null;
      }, { timeoutMs: 15_000, what: 'the slow request through up' });
      assert.deepEqual(rows.map((r) => r.url.replace(/^http:\/\/[^/]+/, '')), ['/slow?ms=600'], 'the slow request only, default 500 ms threshold');
    } finally {
      await app.stop();
    }
  } finally {
    assert.equal(await up.stop(), 0);
  }
});
