// Issue 4's "daemon -> listener end to end (real processes)": a real daemon forwarding to a real
// listener (SQLite in a temp dir, a token), with a listener crash and restart in the middle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnDaemon, tempDir, type DaemonHandle } from '../helpers/daemon-process.js';
import { freePort, spawnListener } from '../helpers/listener-process.js';
import { fixture, ids, profile } from '../helpers/profiles.js';
import { sendOverConnections } from '../helpers/socket-client.js';
import { waitFor } from '../helpers/wait-for.js';

const TOKEN = 'e2e-listener-token';
const auth = { Authorization: `Bearer ${TOKEN}` };
const TOTAL = 10_000;
const SLOW_EVERY = 100; // profiles 100k and 100k+1 are slow (one of each shape): duration searches have exact, small answers

/** Two payload shapes, alternating: the PHP agent's original (fixture) and the request.uri variant. */
function payloadFor(i: number, id: string): Record<string, unknown> {
  const slow = i % SLOW_EVERY < 2;
  const now = Date.now() / 1000;
  if (i % 2 === 0) {
    const p = structuredClone(fixture('php-agent-original-shape.json'));
    const timing = p.timing as Record<string, number>;
    const ms = slow ? 5_000 + i / 100 : 1_234.56;
    Object.assign(p, { correlation_id: id, project: 'shop', timestamp: now, elapsed_ms: ms });
    Object.assign(timing, { start_time: now - ms / 1000, elapsed_ms: ms, request_time_float: now - ms / 1000 });
    if (i % 4 === 0) p.xhprof = null; // agents without xhprof send null
    return p;
  }
  const p = profile(id, 500);
  delete p.elapsed_ms; // the duration comes from timing.duration_ms in this variant
  (p.request as Record<string, unknown>).uri = `/orders/${i}`; // numeric, so statistics group it as /orders/{id}
  (p.timing as Record<string, number>).duration_ms = slow ? 6_000 : 80;
  return p;
}

interface SearchPage {
  items: { correlation_id: string; url: string; duration_ms: number }[];
  next_cursor: string | null;
  total: number;
  total_capped: boolean;
}

async function get<T>(base: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`, { headers: auth });
  assert.equal(res.status, 200, `GET ${path}: ${res.status}`);
  return (await res.json()) as T;
}

/** Every stored row, by following next_cursor 1,000 at a time. */
async function allRows(base: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const page: SearchPage = await get<SearchPage>(base, `/api/v1/requests?project=shop&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...page.items.map((r) => r.correlation_id));
    cursor = page.next_cursor;
  } while (cursor !== null);
  return out;
}

async function endpointCounts(base: string): Promise<Record<string, number>> {
  const s = await get<{ items: { key: string; count: number }[] }>(base, '/api/v1/stats/endpoints?project=shop');
  return Object.fromEntries(s.items.map((x) => [x.key, x.count]));
}

test('daemon -> listener, real processes: 10,000 PHP profiles of both shapes stored once each across a listener crash, and found by search and statistics', async () => {
  const port = await freePort();
  const listenerDir = tempDir('bitville-listener-');
  const listenerConfig = { listen: `127.0.0.1:${port}`, tokens: { [TOKEN]: ['shop'] } };
  let listener = await spawnListener(listenerDir, listenerConfig);
  const base = listener.url;
  let daemon: DaemonHandle | null = null;
  try {
    daemon = await spawnDaemon(tempDir(), {
      forward: { url: base, token: TOKEN, flushIntervalMs: 200, connectTimeoutMs: 500, timeoutMs: 5_000 },
      circuitBreaker: { retryTimeoutMs: 500 },
    });
    const all = ids(TOTAL, 'dl');
    const lines = all.map((id, i) => JSON.stringify(payloadFor(i, id)) + '\n');
    const chunk = 1_000;
    let restarted = false;
    for (let at = 0; at < TOTAL; at += chunk) {
      await sendOverConnections(daemon.socketPath, lines.slice(at, at + chunk), 4);
      if (at === 4 * chunk) {
        // Crash mid-stream: a batch may be committed without its answer; the daemon must resend
        // it and the listener must count it as a duplicate, not store it twice.
        await waitFor(async () => Object.values(await endpointCounts(base)).reduce((n, c) => n + c, 0) >= 3 * chunk, { timeoutMs: 30_000, what: 'rows stored before the crash' });
        listener.proc.kill('SIGKILL');
        await listener.exited;
      }
      if (at === 6 * chunk) {
        listener = await spawnListener(listenerDir, listenerConfig);
        restarted = true;
      }
    }
    assert.ok(restarted);
    assert.equal(listener.url, base, 'the listener came back where the daemon sends');
    await waitFor(async () => (await daemon?.accepted()) === TOTAL, { what: `${TOTAL} accepted by the daemon` });

    const d = daemon;
    await waitFor(async () => Object.values(await endpointCounts(base)).reduce((n, c) => n + c, 0) >= TOTAL, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `${TOTAL} rows in the listener's endpoint statistics`,
    }).catch(async (err: Error) => {
      const forward = (await d.health()).body.stats.forward;
      throw new Error(`${err.message}\nendpoints: ${JSON.stringify(await endpointCounts(base))}\nforward: ${JSON.stringify(forward)}\nlistener: ${listener.output().slice(-3000)}`);
    });
    const rows = await allRows(base);
    assert.equal(rows.length, TOTAL, 'paging through search returns every row once');
    assert.deepEqual(new Set(rows), new Set(all), 'exactly the ids sent');

    assert.deepEqual(await endpointCounts(base), { 'POST /checkout/confirm': TOTAL / 2, 'GET /orders/{id}': TOTAL / 2 });
    const slow = await get<SearchPage>(base, '/api/v1/requests?project=shop&min_ms=5000&limit=1000');
    assert.equal(slow.total, (2 * TOTAL) / SLOW_EVERY, 'search by duration');
    assert.equal(slow.total_capped, false);
    assert.ok(slow.items.every((r) => r.duration_ms >= 5_000));
    const slowCheckout = await get<SearchPage>(base, '/api/v1/requests?project=shop&url=checkout/confirm&min_ms=5000&max_ms=5999');
    assert.equal(slowCheckout.total, TOTAL / SLOW_EVERY, 'search by URL and duration range: the slow original-shape profiles');
    assert.ok(slowCheckout.items.every((r) => r.url.includes('/checkout/confirm')));
    const slowOrders = await get<SearchPage>(base, '/api/v1/requests?project=shop&url=/orders/&min_ms=5000');
    assert.equal(slowOrders.total, TOTAL / SLOW_EVERY, 'search by URL and duration: the slow request.uri-variant profiles');
    const one = await get<SearchPage>(base, `/api/v1/requests?project=shop&url=${encodeURIComponent(`/orders/${TOTAL - 1}`)}`);
    assert.deepEqual(one.items.map((r) => r.correlation_id), [all[TOTAL - 1]], 'search by one URL');
    const everything = await get<SearchPage>(base, '/api/v1/requests?project=shop&limit=1');
    assert.equal(everything.total_capped, true, 'more rows than the exact-count cap');

    const detail = await get<{ payload?: Record<string, unknown> } & Record<string, unknown>>(base, `/api/v1/requests/${all[0]}?project=shop`);
    assert.match(JSON.stringify(detail), /"_meta"/, 'the original payload is stored unchanged, _meta included');
    const series = await get<{ items: { count: number }[] }>(base, '/api/v1/stats/timeseries?project=shop');
    assert.equal(series.items.reduce((n, p) => n + p.count, 0), TOTAL, 'the time series counts every request');

    const h = await daemon.health();
    assert.equal((h.body.stats.forward as { backlog_items: number }).backlog_items, 0, 'nothing left in the daemon');
    const ready = await get<{ checks: { ingest: { accepted: number; duplicates?: number } } }>(base, '/ready');
    console.log(`# listener after restart: ${JSON.stringify(ready.checks.ingest)}`);
  } finally {
    if (daemon) {
      daemon.kill('SIGTERM');
      assert.equal(await daemon.exited, 0, daemon.output());
    }
    listener.proc.kill('SIGTERM');
    assert.equal(await listener.exited, 0, listener.output());
  }
});
