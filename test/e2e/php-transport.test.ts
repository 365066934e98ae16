/**
 * The client's transport with real PHP: the daemon down (inbox files, delivered later), and a
 * daemon that accepts and never reads (the send budget holds).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { spawnDaemon, tempDir } from '../helpers/daemon-process.js';
import { spawnListener } from '../helpers/listener-process.js';
import { waitFor } from '../helpers/wait-for.js';
import { mkdirSync } from 'node:fs';
import { inboxProfiles, listenerApi, phpMissing, startFakeDaemon, startPhpApp, type PhpApp } from './php-harness.js';

const skip = phpMissing();
const TOKEN = 'php-transport-token';

async function medianMs(app: PhpApp, path: string, n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await app.get(path);
    assert.equal(r.status, 200, `${path}: ${r.body}`);
    times.push(r.ms);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)] as number;
}

test('daemon stopped: requests succeed within the budget, profiles land in the inbox and are delivered once the daemon starts', { skip }, async () => {
  const dir = tempDir('bitville-php-down-');
  const inbox = join(dir, 'data', 'inbox'); // where spawnDaemon's daemon will sweep
  const app = await startPhpApp(dir, {
    BITVILLE_APM_PROJECT_NAME: 'down',
    BITVILLE_APM_DAEMON_SOCKET_PATH: join(dir, 'daemon.sock'), // nothing listens there yet
    BITVILLE_APM_INBOX_PATH: inbox,
    BITVILLE_APM_PROFILING_THRESHOLD_MS: '150',
    BITVILLE_APM_PROFILER: 'none',
  });
  try {
    const sent = await medianMs(app, '/manual?ms=200', 3);
    assert.equal(inboxProfiles(inbox).length, 3, 'one inbox file per slow request');
    // The same page below the threshold sends nothing: the difference is the whole cost of sending.
    const notSent = await medianMs(app, '/manual?ms=140', 3);
    assert.ok(sent - notSent - 60 < 50 + 150, `sending to the inbox added ${(sent - notSent - 60).toFixed(1)} ms (budget 50 ms, 150 ms slack for a shared machine)`);
    assert.equal(inboxProfiles(inbox).length, 3, 'fast requests leave no file');
    assert.deepEqual(inboxProfiles(inbox).map((p) => p.project), ['down', 'down', 'down']);

    mkdirSync(join(dir, 'l'), { recursive: true });
    const listener = await spawnListener(join(dir, 'l'), { tokens: { [TOKEN]: ['*'] } });
    const daemon = await spawnDaemon(dir, { forward: { url: listener.url, token: TOKEN, flushIntervalMs: 100 } });
    try {
      const api = listenerApi(listener.url, TOKEN);
      await waitFor(async () => (await api.requests('down', '/manual')).length === 3, { timeoutMs: 20_000, what: 'the 3 inbox profiles in the listener' });
      await waitFor(() => inboxProfiles(inbox).length === 0, { what: 'the daemon to empty the inbox' });
      // and with the daemon up, the next one goes through the socket
      await app.get('/manual?ms=200');
      await waitFor(async () => (await api.requests('down', '/manual')).length === 4, { timeoutMs: 20_000, what: 'the 4th profile' });
    } finally {
      daemon.kill('SIGTERM');
      await daemon.exited;
      listener.proc.kill('SIGTERM');
      await listener.exited;
    }
  } finally {
    await app.stop();
  }
});

test('a daemon that accepts and never reads costs the request at most the budget; the profile goes to the inbox', { skip }, async () => {
  const dir = tempDir('bitville-php-stuck-');
  const stuck = await startFakeDaemon(join(dir, 'stuck.sock'), { read: false });
  const inbox = join(dir, 'inbox');
  const env = {
    BITVILLE_APM_DAEMON_SOCKET_PATH: stuck.path,
    BITVILLE_APM_INBOX_PATH: inbox,
    BITVILLE_APM_PROFILING_THRESHOLD_MS: '150',
    BITVILLE_APM_PROFILER: 'none',
  };
  const app = await startPhpApp(dir, env);
  const slowBudget = await startPhpApp(dir, { ...env, BITVILLE_APM_LISTENER_TIMEOUT_MS: '1500' });
  try {
    // /big makes a ~3 MB profile: far more than the socket buffer, so the write blocks.
    const r = await app.get('/big?ms=200');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'big');
    assert.ok(r.ms < 200 + 50 + 400, `request took ${r.ms.toFixed(0)} ms: 200 ms of work + 50 ms budget (+400 ms slack for building 3 MB)`);
    await waitFor(() => inboxProfiles(inbox).length === 1, { what: 'the whole profile in the inbox' });
    const [p] = inboxProfiles(inbox);
    assert.ok((p?.sql as { total_queries: number }).total_queries >= 400, 'the 400 big queries are in it');

    // The same with a 1.5 s budget waits the budget out: the bound above is the budget's doing.
    const long = await slowBudget.get('/big?ms=200');
    assert.equal(long.status, 200);
    assert.ok(long.ms >= 1500 + 200, `with a 1500 ms budget the request took ${long.ms.toFixed(0)} ms`);
  } finally {
    await app.stop();
    await slowBudget.stop();
    await stuck.stop();
  }
});
