/**
 * Running the client in production (issue 11): the pool snippet that ships in
 * deploy/php-fpm/bitville-apm-pool.conf (and is shown in the README) works as written; FPM
 * starts with every documented way of switching the client off; and a daemon stopped and
 * started again under load loses no profile (the client falls back to the inbox meanwhile).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnDaemon, tempDir } from '../helpers/daemon-process.js';
import { fpmMissing, openToWww, REPO, startFpmSite, writeFpmConfig, type FpmSite } from '../helpers/php-fpm.js';
import { waitFor } from '../helpers/wait-for.js';
import { listenerApi, phpMissing, startStack } from './php-harness.js';

const skip = phpMissing() || fpmMissing();
const SNIPPET = join(REPO, 'deploy', 'php-fpm', 'bitville-apm-pool.conf');

/** The shipped snippet's env[...] lines as a map, production paths replaced by the test's. */
function snippetEnv(replace: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(SNIPPET, 'utf8').split('\n')) {
    const m = /^env\[(\w+)\] = (.*)$/.exec(line.trim());
    if (!m?.[1] || m[2] === undefined) continue;
    let value = m[2];
    for (const [from, to] of Object.entries(replace)) value = value.replace(from, to);
    env[m[1]] = value;
  }
  return env;
}

function siteDir(): { dir: string; appData: string } {
  const dir = tempDir('bitville-fpm-deploy-');
  openToWww(dir);
  const appData = join(dir, 'app');
  mkdirSync(appData);
  openToWww(appData, true);
  return { dir, appData };
}

describe('PHP-FPM deployment', { skip }, () => {
  const sites: FpmSite[] = [];
  after(async () => {
    for (const s of sites) await s.stop();
  });

  test('the README pool snippet and every documented way to switch the client off let FPM start; unquoted false does not', async () => {
    const snippet = readFileSync(SNIPPET, 'utf8');
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    for (const line of snippet.split('\n').filter((l) => l.startsWith('env['))) assert.ok(readme.includes(line), `README shows ${line}`);

    const off: Record<string, string>[] = [
      { BITVILLE_APM_PROFILING_ENABLED: '"false"' },
      { BITVILLE_APM_PROFILING_ENABLED: "'false'" },
      { BITVILLE_APM_PROFILING_ENABLED: '0' },
      { BITVILLE_APM_PROFILING_ENABLED: '"off"' },
      { BITVILLE_APM_PROFILING_ENABLED: '"no"' },
      { BITVILLE_APM_SAMPLE_RATE: '0' },
    ];
    for (const extra of off) {
      const { dir, appData } = siteDir();
      const site = await startFpmSite(dir, { workers: 1, env: { ...snippetEnv({ '/var/run/bitville-apm': dir, '/var/lib/bitville-apm': dir }), APP_DB: `"${join(appData, 'a.sqlite')}"`, ...extra } });
      sites.push(site);
      const info = (await (await fetch(`${site.url}/info`)).json()) as { active: boolean; config: { project_name: string } };
      assert.equal(info.active, false, `${JSON.stringify(extra)} switches the client off`);
      assert.equal(info.config.project_name, 'shop', 'the snippet is applied');
      await site.stop();
    }
    // The pitfall the snippet warns about: FPM refuses an unquoted false (and off, no, none).
    for (const bad of ['false', 'off', 'no']) {
      const t = writeFpmConfig(tempDir(), { env: { BITVILLE_APM_PROFILING_ENABLED: bad } }).test;
      assert.equal(t.ok, false, `unquoted ${bad}`);
      assert.match(t.output, /empty value/);
    }
    assert.equal(writeFpmConfig(tempDir(), { env: { BITVILLE_APM_PROFILER: 'none' } }).test.ok, false, 'unquoted none');
    assert.equal(writeFpmConfig(tempDir(), { env: { BITVILLE_APM_PROFILER: '"none"' } }).test.ok, true, 'quoted none');
  });

  // Issue 9, finding 1: before the stop moved the socket file away first and drained the kernel's
  // queue (and before the client waited for an acknowledgement), this lost ~5 of ~600 profiles.
  test('a daemon stopped and started again under load loses no profile: the inbox files are picked up', async () => {
    const { dir, appData } = siteDir();
    const token = 'fpm-restart-token';
    const stack = await startStack(dir, token);
    const forward = { url: stack.listener.url, token, flushIntervalMs: 100 };
    let daemon = stack.daemon;
    const site = await startFpmSite(dir, {
      workers: 4,
      env: {
        ...snippetEnv({ '/var/run/bitville-apm/daemon.sock': daemon.socketPath, '/var/lib/bitville-apm/inbox': join(daemon.dataDir, 'inbox') }),
        APP_DB: `"${join(appData, 'a.sqlite')}"`,
        BITVILLE_APM_PROJECT_NAME: '"restart"',
        BITVILLE_APM_PROFILING_THRESHOLD_MS: '"5"',
      },
    });
    sites.push(site);
    const ids: string[] = [];
    let stopLoad = false;
    const failures: string[] = [];
    // Four clients in a loop, each request with its own X-Request-Id (the client uses it as the correlation id).
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (!stopLoad) {
          const id = randomUUID();
          const res = await fetch(`${site.url}/manual?ms=10`, { headers: { 'x-request-id': id } });
          await res.text();
          if (res.status === 200) ids.push(id);
          else failures.push(`${res.status}`);
        }
      }),
    );
    try {
      await waitFor(() => ids.length >= 60, { timeoutMs: 20_000, what: '60 requests before the stop' });
      daemon.kill('SIGTERM');
      assert.equal(await daemon.exited, 0);
      const whileDown = ids.length;
      await waitFor(() => ids.length >= whileDown + 60, { timeoutMs: 20_000, what: '60 requests while the daemon is down' });
      daemon = await spawnDaemon(dir, { forward });
      const afterRestart = ids.length;
      await waitFor(() => ids.length >= afterRestart + 60, { timeoutMs: 20_000, what: '60 requests after the restart' });
    } finally {
      stopLoad = true;
      await load;
    }
    assert.deepEqual(failures, [], 'the application answered every request');
    const api = listenerApi(stack.listener.url, token);
    let left: string[] = ids;
    await waitFor(async () => {
      const stored = new Set((await api.requests('restart')).map((r) => r.correlation_id));
      left = ids.filter((id) => !stored.has(id));
      return left.length === 0;
    }, { timeoutMs: 30_000, what: `all ${ids.length} profiles in the listener` }).catch(async (err: unknown) => {
      const positions = left.map((id) => ids.indexOf(id));
      throw new Error(`${(err as Error).message}\n${left.length} missing, at positions ${positions.join(' ')} (stop after ~60, restart after ~120)\nhealth: ${JSON.stringify((await daemon.health()).body.stats.ingest)}\ndaemon output:\n${daemon.output().slice(-1500)}`);
    });
    const health = (await daemon.health()).body;
    assert.ok((health.stats.ingest.inbox_files.ingested ?? 0) > 0 || (health.stats.ingest.accepted_by_source.inbox ?? 0) > 0, `profiles came through the inbox: ${JSON.stringify(health.stats.ingest)}`);
    daemon.kill('SIGTERM');
    await daemon.exited;
    stack.listener.proc.kill('SIGTERM');
    await stack.listener.exited;
  });
});
