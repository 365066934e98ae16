/**
 * GELF exporter end to end (issue 14): a real `bitville-apm listener` process on SQLite, GELF
 * receivers written here (TCP: NUL frames; UDP: chunk reassembly and inflate), an outage of the
 * receiver and a SIGKILL of the listener in the middle of 5,000 profiles.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../helpers/daemon-process.js';
import { startGelfTcpReceiver, startGelfUdpReceiver, type GelfReceiver } from '../helpers/gelf-receivers.js';
import { spawnListener, type ListenerHandle } from '../helpers/listener-process.js';
import { ids as makeIds, profile } from '../helpers/profiles.js';
import { sumSeries } from '../helpers/prometheus-text.js';
import { waitFor } from '../helpers/wait-for.js';

const TOKEN = 'export-token';
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function listenerConfig(url: string, gelf: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tokens: { [TOKEN]: ['*'] },
    log: { level: 'warn' },
    exporters: {
      gelf: { url, batchRecords: 100, pollIntervalMs: 20, retry: { baseMs: 20, capMs: 200 }, circuitBreaker: { failureThreshold: 3, retryTimeoutMs: 300 }, udpConfirmMs: 20, ...gelf },
    },
  };
}

async function post(l: ListenerHandle, lines: readonly Record<string, unknown>[]): Promise<void> {
  const res = await fetch(`${l.url}/v1/ingest`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip' },
    body: gzipSync(lines.map((p) => JSON.stringify(p)).join('\n')),
  });
  const body = (await res.json()) as { accepted: number };
  assert.equal(res.status, 200, JSON.stringify(body));
}

async function metric(l: ListenerHandle, name: string, labels: string): Promise<number> {
  return sumSeries(await (await fetch(`${l.url}/metrics`)).text(), name, labels);
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

/**
 * 5,000 profiles; the receiver goes down after about 1,000 and comes back after 2,000 more were
 * stored; after 3,500 the listener is SIGKILLed mid-export and started again on the same data.
 */
/**
 * `quietOutage`: the receiver goes down only once it has everything sent so far. UDP confirms
 * nothing, so datagrams still queued in a receiver's socket when it closes are lost without an
 * ICMP error the exporter could see (docs/exporters.md); over TCP the outage hits mid-stream.
 */
async function outageAndRestart(receiver: GelfReceiver, url: string, gelf: Record<string, unknown> = {}, quietOutage = false): Promise<void> {
  const dir = tempDir('bitville-export-gelf-');
  dirs.push(dir);
  const all = makeIds(5000, 'gelf');
  const profiles = all.map((id) => profile(id, 300, 'shop'));
  let listener = await spawnListener(dir, listenerConfig(url, gelf));
  const postRange = async (from: number, to: number): Promise<void> => {
    for (let i = from; i < to; i += 250) await post(listener, profiles.slice(i, Math.min(to, i + 250)));
  };
  const arrived = async (n: number, what: string): Promise<void> => {
    try {
      await waitFor(() => unique(receiver.ids()).length >= n, { timeoutMs: 30_000, what: `${n} ids at the receiver (${what})` });
    } catch (err) {
      const seen = new Set(receiver.ids());
      const missing = all.slice(0, n).filter((id) => !seen.has(id));
      const ready = await (await fetch(`${listener.url}/ready`)).text().catch(() => 'no answer');
      throw new Error(`${(err as Error).message}; ${missing.length} missing, first ${missing.slice(0, 5).join(' ')}; /ready ${ready}\n${listener.output().slice(-2000)}`);
    }
  };

  await postRange(0, 1000);
  await arrived(quietOutage ? 1000 : 500, 'before the outage');
  await receiver.down();
  await postRange(1000, 3000);
  await waitFor(async () => (await metric(listener, 'bitville_listener_export_failed_batches_total', 'exporter="gelf"')) >= 3, { what: 'failed batches while the receiver is down' });
  const ready = (await (await fetch(`${listener.url}/ready`)).json()) as { status: string; warnings: string[]; checks: { exporters: { gelf: { state: string; backlog: number } } } };
  assert.equal(ready.status, 'ready', 'ingest is unaffected by the exporter');
  assert.equal(ready.checks.exporters.gelf.state, 'failing');
  assert.ok(ready.checks.exporters.gelf.backlog > 0);
  assert.ok(ready.warnings.some((w) => w.includes('gelf')), JSON.stringify(ready.warnings));
  await receiver.up();
  await arrived(3000, 'after the outage');
  const duplicatesAfterOutage = receiver.ids().length - unique(receiver.ids()).length;
  // A resend is counted when the receiver's confirmation is back in the listener, a moment after the receiver has the records.
  const resent = (): Promise<number> => metric(listener, 'bitville_listener_export_resent_records_total', 'exporter="gelf"');
  await waitFor(async () => (await resent()) >= duplicatesAfterOutage, { what: `${duplicatesAfterOutage} duplicates counted as resent` });

  // SIGKILL while a batch is on its way: the cursor in the store says where to go on.
  await postRange(3000, 3500);
  await arrived(3050, 'just before the kill');
  listener.proc.kill('SIGKILL');
  await listener.exited;
  const receivedAtKill = receiver.ids().length;
  listener = await spawnListener(dir, listenerConfig(url, gelf));
  await postRange(3500, 5000);
  await arrived(5000, 'after the restart');
  await waitFor(async () => (await metric(listener, 'bitville_listener_export_backlog_records', 'exporter="gelf"')) === 0, { what: 'the backlog to empty' });

  const got = receiver.ids();
  assert.deepEqual(unique(got), all, 'every correlation id arrived, first occurrences in store order');
  const dupsAfterRestart = got.slice(receivedAtKill).filter((id) => got.indexOf(id) < receivedAtKill);
  const resentAtRestart = await metric(listener, 'bitville_listener_export_resent_records_total', 'reason="restart"');
  assert.ok(dupsAfterRestart.length <= resentAtRestart, `${dupsAfterRestart.length} duplicates after the restart, ${resentAtRestart} counted`);
  assert.ok(resentAtRestart <= 100, `at most one batch was in flight at the kill, counted ${resentAtRestart}`);
  for (const id of dupsAfterRestart) {
    const n = all.indexOf(id);
    assert.ok(n >= 2900 && n < 3500, `duplicate ${id} is not around the restart`);
  }
  const dupsTotal = got.length - all.length;
  assert.equal(dupsTotal, duplicatesAfterOutage + dupsAfterRestart.length, 'no duplicates anywhere else');
  assert.equal(await metric(listener, 'bitville_listener_export_dropped_records_total', 'exporter="gelf"'), 0);
  listener.proc.kill('SIGTERM');
  await listener.exited;
}

describe('GELF exporter', () => {
  test('over TCP: 5,000 profiles survive a receiver outage and a listener SIGKILL, in order, duplicates only around them and counted', async () => {
    const receiver = await startGelfTcpReceiver();
    try {
      await outageAndRestart(receiver, `tcp://127.0.0.1:${receiver.port}`);
      assert.deepEqual(receiver.errors, [], 'every frame is one JSON object');
      const m = receiver.messages().find((x) => x._correlation_id === 'gelf-000042');
      assert.ok(m);
      assert.equal(m.version, '1.1');
      assert.equal(m.host, 'web-01');
      assert.equal(m.short_message, 'GET /orders/gelf-000042 742.5 ms');
      assert.equal(m.level, 6);
      assert.deepEqual(
        [m._project, m._method, m._url, m._duration_ms, m._sql_count, m._sql_ms, m._endpoint, m._source],
        ['shop', 'GET', '/orders/gelf-000042', 742.5, 1, 1.5, 'GET /orders/gelf-000042', 'php'],
      );
      assert.equal(m._status, undefined, 'no status in the payload: no _status field');
      assert.equal((JSON.parse(String(m.full_message)) as { correlation_id: string }).correlation_id, 'gelf-000042');
    } finally {
      await receiver.close();
    }
  });

  test('over UDP: 5,000 profiles, chunked and gzip-compressed, survive a receiver outage and a listener SIGKILL', async () => {
    const receiver = await startGelfUdpReceiver();
    try {
      // 256-byte datagrams: every compressed profile (~500 bytes) is chunked, so reassembly is exercised.
      await outageAndRestart(receiver, `udp://127.0.0.1:${receiver.port}`, { chunkBytes: 256, compress: 'gzip' }, true);
      assert.deepEqual(receiver.errors, [], 'every message inflates to one JSON object');
      assert.ok(receiver.chunkedMessages() >= 5000, `${receiver.chunkedMessages()} chunked messages`);
    } finally {
      await receiver.close();
    }
  });
});
