// Issue 12: several listener processes on one PostgreSQL database.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { PG_MIGRATIONS } from '../../src/listener/store/postgres/pg-schema.js';
import { spawnDaemon, tempDir, type DaemonHandle } from '../helpers/daemon-process.js';
import { freePort, spawnListener, type ListenerHandle } from '../helpers/listener-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg-database.js';
import { ids, lineFor } from '../helpers/profiles.js';
import { sendOverConnections } from '../helpers/socket-client.js';
import { waitFor } from '../helpers/wait-for.js';

const TOKEN = 'multi-token';
const auth = { Authorization: `Bearer ${TOKEN}` };
// The size: 5,000 profiles per daemon (~25 s here with forward.urls failover; BITVILLE_E2E_PG_PROFILES overrides).
const PER_DAEMON = Number(process.env.BITVILLE_E2E_PG_PROFILES ?? 5000);

let db: TestDatabase;
const dirs = [tempDir('bitville-pg-l1-'), tempDir('bitville-pg-l2-')];
const ports: number[] = [];
const listeners: ListenerHandle[] = [];
const config = (port: number): Record<string, unknown> => ({ listen: `127.0.0.1:${port}`, tokens: { [TOKEN]: ['shop'] }, store: { url: db.url }, limits: { linesPerSecond: 1e6, burstLines: 1e6 } });
const count = async (sql: string): Promise<number> => Number(Object.values((await db.query(sql))[0] ?? {})[0] ?? NaN);

const daemons: DaemonHandle[] = [];

before(async () => {
  db = await createTestDatabase();
  ports.push(await freePort(), await freePort());
});
// Whatever happened, no process outlives the file.
after(() => {
  for (const dm of daemons) dm.kill('SIGKILL');
  for (const l of listeners) l.proc.kill('SIGKILL');
});

test('two listeners starting at the same moment on an empty database both start, and the migrations ran once', async () => {
  listeners.push(...(await Promise.all(dirs.map((d, i) => spawnListener(d, config(ports[i] as number))))));
  const migrations = await db.query<{ version: number; applied_by: string }>('SELECT version, applied_by FROM schema_migrations ORDER BY version');
  assert.deepEqual(migrations.map((m) => m.version), PG_MIGRATIONS.map((m) => m.version), 'one row per version');
  const migrated = listeners.filter((l) => l.output().includes('PostgreSQL schema migrated'));
  assert.equal(migrated.length, 1, 'exactly one listener applied them; the other waited on the lock and found nothing to do');
  assert.ok(migrations.every((m) => m.applied_by.endsWith(`/${migrated[0]?.proc.pid}`)), 'all by that one');
  for (const l of listeners) assert.equal((await fetch(`${l.url}/ready`)).status, 200);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
  assert.equal(await count(`SELECT count(*) FROM pg_class WHERE relname = 'requests_p${tomorrow}'`), 1, "tomorrow's partition exists");
});

test('the same batches sent to both listeners at once are stored once each, and the rollups count every profile once', async () => {
  const answers: { accepted: number; duplicates: number }[] = [];
  for (let b = 0; b < 4; b++) {
    const body = gzipSync(ids(500, `twice-${b}`).map((id) => lineFor(id, 500)).join(''));
    const posts = listeners.map(async (l) => {
      const res = await fetch(`${l.url}/v1/ingest`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip' }, body });
      assert.equal(res.status, 200);
      return (await res.json()) as { accepted: number; duplicates: number };
    });
    answers.push(...(await Promise.all(posts)));
  }
  assert.equal(answers.reduce((n, a) => n + a.accepted, 0), 2000, 'each line accepted by exactly one listener');
  assert.equal(answers.reduce((n, a) => n + a.duplicates, 0), 2000, 'and a duplicate at the other');
  assert.equal(await count("SELECT count(*) FROM requests WHERE correlation_id LIKE 'twice-%'"), 2000);
  assert.equal(await count("SELECT sum(count) FROM rollups WHERE kind = 's' AND res = 60"), 2000, 'minute rollups written by both listeners add up');
  assert.equal(await count("SELECT sum(count) FROM rollups WHERE kind = 'e' AND res = 3600"), 2000, 'and the hourly ones');
});

test(`two listener processes, four daemons each listing both in forward.urls and sending ${PER_DAEMON} profiles, one listener SIGKILLed mid-run and restarted: every profile stored once, rollup counts equal the profiles`, async () => {
  const before = await count("SELECT sum(count) FROM rollups WHERE kind = 's' AND res = 60");
  const urls = listeners.map((l) => l.url);
  for (let d = 0; d < 4; d++) {
    daemons.push(await spawnDaemon(tempDir(), { forward: { url: null, urls, token: TOKEN, flushIntervalMs: 200, connectTimeoutMs: 500, timeoutMs: 5000 }, circuitBreaker: { retryTimeoutMs: 500 } }));
  }
  const lines = daemons.map((_, d) => ids(PER_DAEMON, `d${d}`).map((id) => lineFor(id, 1500)));
  const total = PER_DAEMON * daemons.length;
  const stored = (): Promise<number> => count("SELECT count(*) FROM requests WHERE correlation_id LIKE 'd_-%'");
  const chunk = Math.ceil(PER_DAEMON / 5);
  for (let at = 0; at < PER_DAEMON; at += chunk) {
    await Promise.all(daemons.map((dm, d) => sendOverConnections(dm.socketPath, (lines[d] as string[]).slice(at, at + chunk), 4)));
    if (at === chunk) {
      // Mid-run: a batch may be committed without its answer reaching the daemon; it is sent again.
      await waitFor(async () => (await stored()) >= chunk * 2, { timeoutMs: 30_000, what: 'rows stored before the crash' });
      const victim = listeners[0] as ListenerHandle;
      victim.proc.kill('SIGKILL');
      await victim.exited;
    }
    if (at === 2 * chunk) {
      // While one listener is down, the daemons deliver through the other.
      const down = await stored();
      await waitFor(async () => (await stored()) > down + chunk, { timeoutMs: 30_000, what: 'profiles stored through the surviving listener' });
    }
    if (at === 3 * chunk) listeners[0] = await spawnListener(dirs[0] as string, config(ports[0] as number));
  }
  await waitFor(async () => (await stored()) >= total, { timeoutMs: 120_000, intervalMs: 500, what: `${total} profiles stored` }).catch(async (err: Error) => {
    throw new Error(`${err.message}; stored ${await stored()}`);
  });
  await waitFor(async () => (await Promise.all(daemons.map((dm) => dm.health()))).every((h) => Number(h.body.stats.buffer.memory_buffer_count) === 0 && Number(h.body.stats.buffer.disk_file_count) === 0), {
    timeoutMs: 30_000,
    what: 'every daemon drained',
  });
  assert.equal(await stored(), total, 'no profile twice');
  assert.equal(await count("SELECT count(DISTINCT correlation_id) FROM requests WHERE correlation_id LIKE 'd_-%'"), total, 'every profile once');
  assert.equal((await count("SELECT sum(count) FROM rollups WHERE kind = 's' AND res = 60")) - before, total, 'minute rollups count each profile once');
  assert.equal((await count("SELECT sum(count) FROM rollups WHERE kind = 's' AND res = 3600")) - before, total, 'hourly rollups too');
  for (const l of listeners) {
    const series = (await (await fetch(`${l.url}/api/v1/stats/timeseries?project=shop`, { headers: auth })).json()) as { items: { count: number }[] };
    assert.equal(series.items.reduce((n, p) => n + p.count, 0), total + 2000, 'both listeners answer the same totals');
  }
  for (const dm of daemons) {
    const targets = ((await dm.health()).body.stats.forward as { targets: { url: string; last_success_at: number | null }[] }).targets;
    assert.deepEqual(targets.map((t) => t.url).sort(), [...urls].sort(), 'each daemon lists both listeners');
    assert.ok(targets.every((t) => t.last_success_at !== null), 'and delivered to each of them');
  }
});
