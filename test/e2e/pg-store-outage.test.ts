// Issue 12 on a private PostgreSQL (Unix socket, password authentication) that the tests may
// stop: clear start-up errors, and a database outage while daemons are sending.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestListener } from '../helpers/listener-harness.js';
import { spawnDaemon, tempDir } from '../helpers/daemon-process.js';
import { spawnListener } from '../helpers/listener-process.js';
import { startPrivatePg, type PrivatePg } from '../helpers/pg-private.js';
import { ids, lineFor } from '../helpers/profiles.js';
import { sendOverConnections } from '../helpers/socket-client.js';
import { waitFor } from '../helpers/wait-for.js';

const TOKEN = 'outage-token';
let pg: PrivatePg;

before(async () => {
  pg = await startPrivatePg();
  await pg.psql('CREATE DATABASE apm');
});

async function startError(url: string): Promise<string> {
  try {
    const l = await startTestListener({ store: { url, connectTimeoutMs: 2000 } });
    await l.close();
    return 'started';
  } catch (err) {
    return (err as Error).message;
  }
}

test('start-up errors name store.url and say what to do: wrong password, no such database, nothing listening, missing privileges', async () => {
  const wrongPassword = await startError(pg.url('apm', 'not-the-password'));
  assert.match(wrongPassword, /^store\.url \(bvtest@.*\/apm\): password authentication failed for user "bvtest": fix the user or password in store\.url/);
  assert.doesNotMatch(wrongPassword, /not-the-password/, 'the password is never shown');

  assert.match(await startError(pg.url('nosuchdb')), /database "nosuchdb" does not exist: create it \(createdb -O bvtest nosuchdb\)/);
  assert.match(await startError(`postgres://bvtest@/apm?host=${pg.socketDir}/nowhere`), /cannot reach PostgreSQL \(ENOENT\): is the server running/);
  assert.match(await startError('postgres://root@127.0.0.1:1/apm'), /cannot reach PostgreSQL \(ECONNREFUSED\)/);

  // PostgreSQL 15 gives no one CREATE on schema public of a new database but its owner.
  await pg.psql("CREATE ROLE weak LOGIN PASSWORD 'weak-pw'");
  await pg.psql('CREATE DATABASE weakdb');
  const weak = await startError(`postgres://weak:weak-pw@/weakdb?host=${pg.socketDir}&port=${pg.port}`);
  assert.match(weak, /user "weak" lacks a privilege the listener needs .*GRANT CREATE ON SCHEMA public TO weak/);
  await pg.psql('GRANT CREATE ON SCHEMA public TO weak', 'weakdb');
  assert.equal(await startError(`postgres://weak:weak-pw@/weakdb?host=${pg.socketDir}&port=${pg.port}`), 'started', 'with the grant it starts');

  assert.match(await startError(`${pg.url('apm')}&sslmode=prefer`), /sslmode=prefer is not supported/);
  assert.match(await startError('postgres://root@127.0.0.1/apm?sslmode=verify-full'), /store\.sslmode = verify-full needs store\.sslRootCert/);
});

test('PostgreSQL down while ingesting: 503 with Retry-After and /ready says so, the daemon keeps the data and delivers it when the database is back, without a listener restart', async () => {
  const listener = await spawnListener(tempDir('bitville-pg-outage-'), { tokens: { [TOKEN]: ['shop'] }, store: { url: pg.url('apm'), connectTimeoutMs: 1000 } });
  const daemon = await spawnDaemon(tempDir(), {
    forward: { url: listener.url, token: TOKEN, flushIntervalMs: 100, connectTimeoutMs: 500, timeoutMs: 5000 },
    circuitBreaker: { retryTimeoutMs: 1000 },
  });
  const all = ids(1500, 'outage');
  const lines = all.map((id) => lineFor(id, 2000));
  const stored = async (): Promise<number> => Number(await pg.psql('SELECT count(*) FROM requests', 'apm'));

  await sendOverConnections(daemon.socketPath, lines.slice(0, 500), 4);
  await waitFor(async () => (await stored()) === 500, { timeoutMs: 30_000, what: 'the first 500 stored' });

  await pg.stop();
  await sendOverConnections(daemon.socketPath, lines.slice(500, 1000), 4);
  const down = await fetch(`${listener.url}/v1/ingest`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/x-ndjson' },
    body: lines[1000],
  });
  assert.equal(down.status, 503, 'ingest says storage is unavailable');
  assert.ok(Number(down.headers.get('retry-after')) > 0, 'with Retry-After');
  const ready = await fetch(`${listener.url}/ready`);
  assert.equal(ready.status, 503);
  const checks = ((await ready.json()) as { checks: { store: { ok: boolean; kind: string; error: string } } }).checks;
  assert.equal(checks.store.ok, false);
  assert.equal(checks.store.kind, 'postgres');
  assert.ok(checks.store.error.length > 0, '/ready gives the reason');
  await waitFor(async () => (await daemon.accepted()) === 1000, { what: 'the daemon accepting while the database is down' });

  await pg.start();
  await sendOverConnections(daemon.socketPath, lines.slice(1000), 4);
  await waitFor(async () => (await stored()) === all.length, { timeoutMs: 60_000, intervalMs: 250, what: `${all.length} stored after the outage` });
  assert.equal((await fetch(`${listener.url}/ready`)).status, 200, 'ready again');
  assert.equal(await pg.psql('SELECT count(DISTINCT correlation_id) FROM requests', 'apm'), String(all.length), 'each profile once');
  assert.equal(await pg.psql("SELECT sum(count) FROM rollups WHERE kind = 's' AND res = 60", 'apm'), String(all.length), 'rollups count each once');
  assert.equal(listener.proc.exitCode, null, 'the same listener process throughout');
  const stats = (await (await fetch(`${listener.url}/api/v1/stats/timeseries?project=shop`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as { items: { count: number }[] };
  assert.equal(stats.items.reduce((n, i) => n + i.count, 0), all.length, 'and the read API sees them all');
  daemon.kill('SIGKILL');
  listener.proc.kill('SIGKILL');
});
