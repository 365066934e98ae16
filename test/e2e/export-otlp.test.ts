/**
 * OTLP exporter (issue 14): a listener (in this process, real HTTP and SQLite) exports profiles to
 * a collector written here that decodes with the official OTLP protobuf definitions.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startTestListener, ndjson, type TestListener } from '../helpers/listener-harness.js';
import { startGelfTcpReceiver } from '../helpers/gelf-receivers.js';
import { startOtlpReceiver, type DecodedSpan } from '../helpers/otlp-receiver.js';
import { waitFor } from '../helpers/wait-for.js';

const FAST = { batchRecords: 50, pollIntervalMs: 20, retry: { baseMs: 20, capMs: 200 }, circuitBreaker: { failureThreshold: 3, retryTimeoutMs: 300 } };
const START = 1_764_150_000.25;

function tracedProfile(): Record<string, unknown> {
  return {
    correlation_id: '3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10',
    project: 'project-a',
    timestamp: START,
    elapsed_ms: 812.5,
    request: { method: 'POST', url: 'https://shop.example:8443/checkout/42?step=2', headers: { Host: 'shop.example:8443' } },
    response: { status_code: 500 },
    timing: { start_time: START, duration_ms: 812.5 },
    trace: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: 'a1b2c3d4e5f60718', flags: '01', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    sql: {
      queries: [
        { query: "SELECT * FROM orders WHERE id = 42 AND note = 'x'", duration_ms: 120.5, start_ms: 10.25, db_system: 'pgsql' },
        { query: 'UPDATE stock SET n = n - 1 WHERE sku = 7', duration_ms: 30, start_ms: 700 },
      ],
      total_queries: 2,
      total_duration_ms: 150.5,
    },
    xhprof: { profiling: { top_functions: [{ name: 'main()', calls: 1, wall_time_ms: 812 }, { name: 'App\\Checkout::run', calls: 3, wall_time_ms: 500, self_wall_time_ms: 120 }, { name: 'App\\Tax::compute', calls: 40, wall_time_ms: 90 }] } },
    fatal_error: { type: 1, message: 'Allowed memory size exhausted', file: '/app/Checkout.php', line: 9 },
    server: { hostname: 'web-07', php_version: '8.2.0', sapi: 'fpm-fcgi' },
  };
}

function plainProfile(id: string): Record<string, unknown> {
  return {
    correlation_id: id,
    project: 'project-a',
    timestamp: START + 1,
    elapsed_ms: 600,
    request: { method: 'GET', uri: `/products/${id}`, headers: { Host: 'shop.example' } },
    response: { status_code: 200 },
    sql: { queries: [{ query: 'SELECT 1', duration_ms: 2 }, { query: 'SELECT 2', duration_ms: 3 }], total_queries: 2 },
    server: { hostname: 'web-01' },
  };
}

const ns = (s: number): bigint => BigInt(Math.round(s * 1e6)) * 1000n;

describe('OTLP exporter', () => {
  test('a profile becomes a SERVER span in the caller\'s trace with CLIENT spans per query at their measured start and INTERNAL spans for top functions', async () => {
    const collector = await startOtlpReceiver();
    let l: TestListener | null = null;
    try {
      l = await startTestListener({ exporters: { otlp: { url: collector.url, ...FAST } } });
      const uuid = '0c5d7e8f-9a10-4e2f-9a1b-3f1c2a9e6b7d';
      assert.equal((await l.post('/v1/ingest', ndjson([tracedProfile(), plainProfile(uuid)]))).status, 200);
      const spans = await waitFor(() => (collector.spans().length >= 1 + 2 + 2 + 1 + 2 ? collector.spans() : null), { what: 'the spans of both profiles' });
      assert.equal(collector.requests()[0]?.contentType, 'application/x-protobuf');
      assert.equal(collector.requests()[0]?.encoding, 'gzip');

      const server = spans.find((s) => s.kind === 'SPAN_KIND_SERVER' && s.traceId === '4bf92f3577b34da6a3ce929d0e0e4736') as DecodedSpan;
      assert.ok(server, 'the request span joins the incoming trace');
      assert.equal(server.parentSpanId, '00f067aa0ba902b7', 'child of the caller named in traceparent');
      assert.equal(server.spanId, 'a1b2c3d4e5f60718', 'the span id the PHP client handed out');
      assert.equal(server.name, 'POST /checkout/{id}');
      assert.equal(server.startTimeUnixNano, String(ns(START)));
      assert.equal(BigInt(server.endTimeUnixNano) - BigInt(server.startTimeUnixNano), 812_500_000n);
      assert.deepEqual(server.resource, { 'service.name': 'project-a', 'host.name': 'web-07' });
      assert.equal(server.scope, 'bitville-apm');
      for (const [k, v] of Object.entries({
        'http.request.method': 'POST',
        'url.full': 'https://shop.example:8443/checkout/42?step=2',
        'url.path': '/checkout/42',
        'url.query': 'step=2',
        'url.scheme': 'https',
        'http.response.status_code': 500,
        'server.address': 'shop.example',
        'server.port': 8443,
        'host.name': 'web-07',
        'bitville.correlation_id': '3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10',
      })) assert.equal(server.attributes[k], v, k);
      assert.deepEqual(server.status, { code: 'STATUS_CODE_ERROR', message: 'Allowed memory size exhausted' });

      const children = spans.filter((s) => s.traceId === server.traceId && s !== server);
      assert.ok(children.every((s) => s.parentSpanId === server.spanId), 'every other span is a child of the request span');
      const sql = children.filter((s) => s.kind === 'SPAN_KIND_CLIENT');
      assert.deepEqual(sql.map((s) => s.attributes['db.query.text']), ['SELECT * FROM orders WHERE id = ? AND note = ?', 'UPDATE stock SET n = n - ? WHERE sku = ?']);
      assert.deepEqual(sql.map((s) => s.attributes['db.system']), ['postgresql', 'other_sql'], "the PDO driver the client recorded, else exporters.otlp.dbSystem");
      assert.deepEqual(sql.map((s) => s.name), ['SELECT orders', 'UPDATE stock']);
      assert.equal(sql[0]?.startTimeUnixNano, String(ns(START) + 10_250_000n), 'placed at its measured start');
      assert.equal(BigInt(sql[0]?.endTimeUnixNano ?? 0) - BigInt(sql[0]?.startTimeUnixNano ?? 0), 120_500_000n);
      assert.equal(sql[1]?.startTimeUnixNano, String(ns(START) + 700_000_000n));
      const fns = children.filter((s) => s.kind === 'SPAN_KIND_INTERNAL');
      assert.deepEqual(fns.map((s) => s.attributes['code.function.name']), ['App\\Checkout::run', 'App\\Tax::compute'], 'top functions, main() left out');
      assert.equal(fns[0]?.attributes['bitville.function.calls'], 3);
      assert.equal(BigInt(fns[0]?.endTimeUnixNano ?? 0) - BigInt(fns[0]?.startTimeUnixNano ?? 0), 500_000_000n);

      const own = spans.find((s) => s.kind === 'SPAN_KIND_SERVER' && s.attributes['bitville.correlation_id'] === uuid) as DecodedSpan;
      assert.ok(own);
      assert.equal(own.traceId, uuid.replaceAll('-', ''), 'without traceparent, the trace is named after the correlation id');
      assert.equal(own.parentSpanId, '', 'a root span');
      assert.equal(own.attributes['url.path'], `/products/${uuid}`);
      assert.equal(own.attributes['server.address'], 'shop.example');
      const ownSql = spans.filter((s) => s.traceId === own.traceId && s.kind === 'SPAN_KIND_CLIENT');
      assert.equal(ownSql.length, 2);
      assert.ok(ownSql.every((s) => s.attributes['bitville.start_estimated'] === true), 'no start_ms: laid out one after another and marked');
      assert.equal(ownSql[1]?.startTimeUnixNano, ownSql[0]?.endTimeUnixNano);
    } finally {
      await l?.close();
      await collector.close();
    }
  });

  test('collector down, then answering 503 with Retry-After, then up: every trace arrives once the collector is back', async () => {
    const collector = await startOtlpReceiver();
    let l: TestListener | null = null;
    try {
      await collector.down();
      l = await startTestListener({ exporters: { otlp: { url: collector.url, encoding: 'json', compression: 'none', ...FAST } } });
      const ids = Array.from({ length: 300 }, (_, i) => `down-${i}`);
      for (let i = 0; i < ids.length; i += 100) assert.equal((await l.post('/v1/ingest', ndjson(ids.slice(i, i + 100).map(plainProfile)))).status, 200);
      const failed = async (): Promise<number> => {
        const text = await (await fetch(`${l?.url}/metrics`)).text();
        return Number(/bitville_listener_export_failed_batches_total\{exporter="otlp",error_code="refused"\} (\d+)/.exec(text)?.[1] ?? 0);
      };
      await waitFor(async () => (await failed()) >= 2, { what: 'refused batches while the collector is down' });
      await collector.up();
      collector.setMode({ kind: 'status', status: 503, retryAfterS: 0 });
      await waitFor(() => collector.requests().length >= 2, { what: '503 answers' });
      collector.setMode({ kind: 'ok' });
      const servers = await waitFor(
        () => {
          const s = new Set(collector.spans().filter((x) => x.kind === 'SPAN_KIND_SERVER').map((x) => x.attributes['bitville.correlation_id']));
          return s.size === ids.length ? s : null;
        },
        { timeoutMs: 20_000, what: 'all 300 traces' },
      );
      assert.deepEqual([...servers].sort(), [...ids].sort());
      assert.equal(collector.requests().at(-1)?.contentType, 'application/json');
      // The collector has the spans a moment before the listener hears its answer back from the export thread.
      const otlp = await waitFor(async () => {
        const ready = await (l as TestListener).get('/ready');
        const e = (ready.json.checks as { exporters: { otlp: { backlog: number; state: string; sent: number } } }).exporters.otlp;
        return e.sent === 300 && e.backlog === 0 ? e : null;
      }, { what: '/ready: 300 sent, nothing left' });
      assert.equal(otlp.state, 'ok');
    } finally {
      await l?.close();
      await collector.close();
    }
  });

  test('a profile with several MB of XHProf data is cut to fullMessageMaxBytes in GELF and still exported as a bounded trace, never rejected whole', async () => {
    const collector = await startOtlpReceiver();
    const gelf = await startGelfTcpReceiver();
    let l: TestListener | null = null;
    try {
      l = await startTestListener({
        exporters: { otlp: { url: collector.url, ...FAST, functionSpans: 5, maxSqlSpans: 5 }, gelf: { url: `tcp://127.0.0.1:${gelf.port}`, fullMessageMaxBytes: 100_000, ...FAST } },
      });
      // A raw XHProf map (parent==>child edges) of 60,000 edges, as older agents send: ~5 MB of JSON.
      const raw: Record<string, { ct: number; wt: number }> = {};
      for (let i = 0; i < 60_000; i++) raw[`App\\Module${i % 97}\\Service${i}::handle==>App\\Repo${i}::find`] = { ct: 1 + (i % 5), wt: 10 + (i % 1000) };
      raw['main()==>App\\Module0\\Service0::handle'] = { ct: 1, wt: 500_000 }; // 500 of the request's 600 ms
      const queries = Array.from({ length: 60 }, (_, i) => ({ query: `SELECT * FROM t${i} WHERE id = ${i}`, duration_ms: i, start_ms: i * 5 }));
      const big = { ...plainProfile('big-1'), xhprof: raw, sql: { queries, total_queries: 60 }, custom: { note: 'ünïcödé '.repeat(20_000) } };
      const body = ndjson([big]);
      assert.ok(body.length > 4_000_000, `${body.length} bytes`);
      assert.equal((await l.post('/v1/ingest', body, { gzip: true })).status, 200);

      const m = await waitFor(() => gelf.messages().find((x) => x._correlation_id === 'big-1'), { what: 'the GELF message of the big profile' });
      const full = String(m.full_message);
      assert.ok(Buffer.byteLength(full) <= 100_000 && Buffer.byteLength(full) > 99_990, `${Buffer.byteLength(full)} bytes`);
      assert.ok(!full.includes('\uFFFD'), 'cut on a character boundary');
      assert.equal(m._full_message_truncated, 1);
      assert.equal(m._payload_bytes, Buffer.byteLength(body) - 1);
      assert.equal(m._url, '/products/big-1');

      const spans = await waitFor(() => (collector.spans().some((s) => s.attributes['bitville.correlation_id'] === 'big-1') ? collector.spans() : null), { what: 'the big trace' });
      const internal = spans.filter((s) => s.kind === 'SPAN_KIND_INTERNAL');
      assert.equal(internal.length, 5, 'functionSpans bounds the function spans');
      assert.equal(internal[0]?.attributes['code.function.name'], 'App\\Module0\\Service0::handle');
      const sql = spans.filter((s) => s.kind === 'SPAN_KIND_CLIENT');
      assert.deepEqual(sql.map((s) => s.name), ['SELECT t55', 'SELECT t56', 'SELECT t57', 'SELECT t58', 'SELECT t59'], 'maxSqlSpans: the slowest queries');
      const server = spans.find((s) => s.kind === 'SPAN_KIND_SERVER');
      assert.equal(server?.attributes['bitville.sql.omitted_spans'], 55, 'the other queries are counted on the request span');
    } finally {
      await l?.close();
      await collector.close();
      await gelf.close();
    }
  });
});
