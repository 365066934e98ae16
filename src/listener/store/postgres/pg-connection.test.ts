import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgTarget, redactUrl, type PgStoreSettings } from './pg-connection.js';

const base: PgStoreSettings = { url: '', poolSize: 7, connectTimeoutMs: 1234, statementTimeoutMs: 0, sslmode: null, sslRootCert: null, sslCert: null, sslKey: null };
const target = (url: string, o: Partial<PgStoreSettings> = {}) => pgTarget({ ...base, url, ...o });

test('store.url forms: host and port, postgresql://, a libpq ?host= Unix socket directory, and pool settings from the store keys', () => {
  const tcp = target('postgresql://apm:s3cr%40t@db.example:6543/bitville');
  assert.ok(tcp.ok);
  assert.deepEqual({ ...tcp.target.pool, ssl: undefined }, { host: 'db.example', port: 6543, user: 'apm', database: 'bitville', password: 's3cr@t', max: 7, connectionTimeoutMillis: 1234, idleTimeoutMillis: 30_000, application_name: 'bitville-apm-listener', ssl: undefined });
  assert.equal(tcp.target.display, 'apm@db.example:6543/bitville');
  const socket = target('postgres://apm@/bitville?host=/var/run/postgresql');
  assert.ok(socket.ok);
  assert.equal(socket.target.pool.host, '/var/run/postgresql');
  assert.equal(socket.target.display, 'apm@/var/run/postgresql/.s.PGSQL.5432/bitville');
  assert.equal(target('mysql://x').ok, false);
});

test('TLS: sslmode from the URL or store.sslmode (which wins), CA and client certificate files, and clear refusals', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bitville-tls-'));
  writeFileSync(join(dir, 'ca.pem'), 'CA');
  const require = target('postgres://u@h/db?sslmode=require');
  assert.ok(require.ok);
  assert.equal(require.target.sslmode, 'require');
  assert.equal((require.target.pool.ssl as { rejectUnauthorized: boolean }).rejectUnauthorized, false, 'require encrypts without verifying');
  const full = target('postgres://u@h/db?sslmode=require', { sslmode: 'verify-full', sslRootCert: join(dir, 'ca.pem') });
  assert.ok(full.ok);
  const ssl = full.target.pool.ssl as { ca: string; rejectUnauthorized: boolean; checkServerIdentity?: unknown };
  assert.deepEqual([ssl.ca, ssl.rejectUnauthorized, ssl.checkServerIdentity], ['CA', true, undefined], 'verify-full checks the chain and the host name');
  const ca = target(`postgres://u@h/db?sslmode=verify-ca&sslrootcert=${join(dir, 'ca.pem')}`);
  assert.ok(ca.ok);
  assert.equal(typeof (ca.target.pool.ssl as { checkServerIdentity?: unknown }).checkServerIdentity, 'function', 'verify-ca skips the host name');
  const missing = target('postgres://u@h/db', { sslmode: 'verify-ca', sslRootCert: join(dir, 'nope.pem') });
  assert.deepEqual(missing, { ok: false, message: `store.sslRootCert = "${join(dir, 'nope.pem')}": cannot read it (ENOENT)` });
  assert.match((target('postgres://u@h/db?sslmode=prefer') as { message: string }).message, /sslmode=prefer is not supported/);
  assert.equal(target('postgres://u@h/db?sslmode=disable').ok && target('postgres://u@h/db').ok, true);
});

test('passwords never appear in what is shown', () => {
  assert.equal(redactUrl('postgres://apm:hunter2@db:5432/x'), 'postgres://apm:***@db:5432/x');
  assert.equal(redactUrl('postgres://apm@db/x?password=hunter2&sslmode=require'), 'postgres://apm@db/x?password=***&sslmode=require');
  const t = target('postgres://apm:hunter2@db/x');
  assert.ok(t.ok && !t.target.display.includes('hunter2'));
});
