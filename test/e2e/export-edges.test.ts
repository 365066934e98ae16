/**
 * Exporter edges (issue 14): retention deleting what an exporter has not sent is counted as
 * dropped; GELF over TLS verifies the receiver's certificate and delivers; a slow receiver does not
 * slow ingest down.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startTestListener, ndjson, variantProfile, type TestListener } from '../helpers/listener-harness.js';
import { startGelfTcpReceiver } from '../helpers/gelf-receivers.js';
import { createTestDatabase } from '../helpers/pg-database.js';
import { waitFor } from '../helpers/wait-for.js';

const FAST = { batchRecords: 50, pollIntervalMs: 20, retry: { baseMs: 20, capMs: 200 }, circuitBreaker: { failureThreshold: 3, retryTimeoutMs: 300 } };
const DAY = 86_400;

async function metricText(l: TestListener): Promise<string> {
  return (await fetch(`${l.url}/metrics`)).text();
}

describe('exporter edges', () => {
  for (const kind of ['sqlite', 'postgres'] as const) {
  test(`retention deleting records an enabled exporter has not sent counts them as dropped in /metrics and /ready (${kind})`, async () => {
    const receiver = await startGelfTcpReceiver();
    await receiver.down(); // nothing will be sent
    let l: TestListener | null = null;
    const db = kind === 'postgres' ? await createTestDatabase('bv_export_ret') : null;
    try {
      l = await startTestListener({ store: { ...(db ? { url: db.url } : {}), retentionDays: 7, retentionIntervalMs: 1000 }, exporters: { gelf: { url: `tcp://127.0.0.1:${receiver.port}`, ...FAST } } });
      const now = Date.now() / 1000;
      const old = Array.from({ length: 30 }, (_, i) => variantProfile({ id: `old-${i}`, ts: now - 10 * DAY + i }));
      const recent = [variantProfile({ id: 'recent-0', ts: now })];
      assert.equal((await l.post('/v1/ingest', ndjson([...old, ...recent]))).status, 200);
      // The backlog gauge is recounted at most once a second, so it may trail the drop counter: wait for both.
      let seen = '';
      await waitFor(async () => {
        const t = await metricText(l as TestListener);
        seen = t.split('\n').filter((line) => line.startsWith('bitville_listener_export_') || line.startsWith('bitville_listener_retention')).join('\n');
        return /bitville_listener_export_dropped_records_total\{exporter="gelf",reason="retention"\} 30\b/.test(t) && /bitville_listener_export_backlog_records\{exporter="gelf"\} 1\b/.test(t);
      }, { timeoutMs: 15_000, what: '30 records dropped by retention and only the recent one left to send' }).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}\nlast export metrics:\n${seen}`);
      });
      const ready = await l.get('/ready');
      const gelf = (ready.json.checks as { exporters: { gelf: { dropped_by_retention_all_time: number; dropped: { retention: number } } } }).exporters.gelf;
      assert.equal(gelf.dropped_by_retention_all_time, 30);
      assert.equal(gelf.dropped.retention, 30);
      await receiver.up();
      await waitFor(() => receiver.ids().includes('recent-0'), { what: 'the recent record after the receiver is back' });
      assert.deepEqual(receiver.ids(), ['recent-0']);
    } finally {
      await l?.close();
      await receiver.close();
      await db?.drop();
    }
  });
  }

  test('GELF over tls:// checks the receiver certificate against exporters.gelf.tls.ca and delivers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bitville-export-tls-'));
    let l: TestListener | null = null;
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    const receiver = await startGelfTcpReceiver({ tls: { key: readFileSync(key), cert: readFileSync(cert) } });
    try {
      l = await startTestListener({ exporters: { gelf: { url: `tls://localhost:${receiver.port}`, tls: { ca: cert }, ...FAST } } });
      assert.equal((await l.post('/v1/ingest', ndjson([variantProfile({ id: 'tls-1' }), variantProfile({ id: 'tls-2' })]))).status, 200);
      await waitFor(() => receiver.ids().length === 2, { what: 'two messages over TLS' });
      assert.deepEqual(receiver.ids(), ['tls-1', 'tls-2']);
      await l.close();
      l = null;

      // Without the CA the certificate does not verify: nothing is sent, the failure says tls.
      const untrusted = await startTestListener({ exporters: { gelf: { url: `tls://localhost:${receiver.port}`, ...FAST } } });
      l = untrusted;
      assert.equal((await untrusted.post('/v1/ingest', ndjson([variantProfile({ id: 'tls-3' })]))).status, 200);
      await waitFor(async () => /bitville_listener_export_failed_batches_total\{exporter="gelf",error_code="tls"\} [1-9]/.test(await metricText(untrusted)), { what: 'a tls failure' });
      assert.deepEqual(receiver.ids(), ['tls-1', 'tls-2']);
    } finally {
      await l?.close();
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('on PostgreSQL two listeners sharing the database export each record once between them, in store order, and the second takes over when the first stops', async () => {
    const db = await createTestDatabase('bv_export');
    const receiver = await startGelfTcpReceiver();
    const listeners: TestListener[] = [];
    try {
      const config = { store: { url: db.url, retentionDays: 3650 }, exporters: { gelf: { url: `tcp://127.0.0.1:${receiver.port}`, ...FAST } } };
      const a = await startTestListener(config);
      listeners.push(a);
      const b = await startTestListener(config);
      listeners.push(b);
      const ids = Array.from({ length: 200 }, (_, i) => `pg-${String(i).padStart(3, '0')}`);
      // Both listeners ingest (as behind a load balancer), interleaved.
      for (let i = 0; i < 100; i += 20) {
        assert.equal((await a.post('/v1/ingest', ndjson(ids.slice(i, i + 10).map((id) => variantProfile({ id }))))).status, 200);
        assert.equal((await b.post('/v1/ingest', ndjson(ids.slice(i + 10, i + 20).map((id) => variantProfile({ id }))))).status, 200);
      }
      await waitFor(() => receiver.ids().length >= 100, { what: 'the first 100 records' });
      const states = [(await a.get('/ready')).json, (await b.get('/ready')).json].map((j) => (j.checks as { exporters: { gelf: { state: string } } }).exporters.gelf.state);
      assert.deepEqual([...states].sort(), ['ok', 'standby'], 'one listener exports, the other stands by');
      const exporting = states[0] === 'ok' ? a : b;
      const other = exporting === a ? b : a;
      await exporting.close();
      listeners.splice(listeners.indexOf(exporting), 1);
      assert.equal((await other.post('/v1/ingest', ndjson(ids.slice(100).map((id) => variantProfile({ id }))))).status, 200);
      await waitFor(() => new Set(receiver.ids()).size === 200, { timeoutMs: 20_000, what: 'all 200 records after the takeover' });
      assert.deepEqual(receiver.ids(), ids, 'each record once, in the order the listeners stored them');
    } finally {
      for (const l of listeners) await l.close();
      await receiver.close();
      await db.drop();
    }
  });
});
