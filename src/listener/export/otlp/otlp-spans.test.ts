import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { extractRecord } from '../../extract/extract-record.js';
import { ENCODING_CODE, packPayload } from '../../store/payload-codec.js';
import type { ExportRow } from '../../store/store.js';
import { profileSpans, type SpanOptions } from './otlp-spans.js';

const START = 1_764_150_000.5;
const payload = {
  correlation_id: 'c-1',
  project: 'shop',
  timestamp: START,
  request: { method: 'GET', uri: '/cart/7?x=1', headers: { host: 'shop.example:8080', TraceParent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'vendor=1' } },
  response: { status_code: 503 },
  timing: { start_time: START, duration_ms: 400 },
  fatal_error: { message: 'Maximum execution time exceeded' },
  sql: {
    driver: 'mysql',
    queries: [
      { query: "SELECT * FROM carts WHERE id = 7 AND s = 'open'", duration_ms: 20, start_ms: 5, db_system: 'pgsql' },
      { query: 'SELECT 1', duration_ms: 1 },
      { query: 'UPDATE carts SET n = 2 WHERE id = 7', duration_ms: 30, start_ms: 200 },
    ],
    total_queries: 5,
    total_duration_ms: 70,
  },
  xhprof: { profiling: { top_functions: [{ name: 'main()', wall_time_ms: 399 }, { name: 'Cart::load', calls: 2, wall_time_ms: 150, self_wall_time_ms: 10 }, { name: 'Too::long', wall_time_ms: 9999 }, { name: 'View::render', wall_time_ms: 90 }] } },
  server: { hostname: 'web-2' },
};

function row(withFacts: boolean, limits: { queries: number; functions: number }): ExportRow {
  const body = Buffer.from(JSON.stringify(payload));
  const r = extractRecord(payload, body, Date.now, 'auto', withFacts ? limits : null);
  assert.ok(r.kind === 'profile');
  const packed = packPayload(body);
  return {
    stream: 'profile',
    position: '1',
    project: r.project,
    source: r.source,
    key: r.correlationId,
    timestamp: r.timestamp,
    profile: { method: r.method, url: r.url, endpoint: r.endpoint, status: r.status, duration_ms: r.durationMs, host: r.host, sql_count: r.sqlCount, sql_ms: r.sqlMs, is_error: r.isError },
    stored: packed.bytes,
    encoding: ENCODING_CODE[packed.encoding],
    facts: r.facts,
  };
}

function plain(spans: ReadableSpan[]): unknown[] {
  return spans.map((s) => ({ name: s.name, kind: s.kind, context: s.spanContext(), parent: s.parentSpanContext, start: s.startTime, end: s.endTime, attributes: s.attributes, status: s.status }));
}

const resource = resourceFromAttributes({ 'service.name': 'shop' });
const options = (maxSqlSpans: number, functionSpans: number): SpanOptions => ({ maxSqlSpans, functionSpans, dbSystem: 'other_sql', resource: () => resource, scope: { name: 'bitville-apm', version: 'test' } });

test('spans built from the facts kept at ingest equal the spans derived from the stored payload', () => {
  const fromFacts = profileSpans(row(true, { queries: 2, functions: 1 }), options(2, 1));
  const fromPayload = profileSpans(row(false, { queries: 2, functions: 1 }), options(2, 1));
  assert.ok(fromFacts.length > 0);
  assert.deepEqual(plain(fromFacts), plain(fromPayload));
});

test('SQL spans are capped at maxSqlSpans (the slowest, in the order they ran) and the rest are counted on the SERVER span', () => {
  const spans = profileSpans(row(true, { queries: 2, functions: 1 }), options(2, 1));
  const [server, ...children] = spans;
  assert.ok(server);
  const sql = children.filter((s) => s.kind === 2); // CLIENT
  assert.deepEqual(sql.map((s) => s.name), ['SELECT carts', 'UPDATE carts']);
  assert.equal(sql[0]?.attributes['db.system'], 'postgresql', "the query's own driver (PDO's pgsql)");
  assert.equal(sql[1]?.attributes['db.system'], 'mysql', "the profile's driver when the query names none");
  assert.equal(server.attributes['bitville.sql.omitted_spans'], 3, '5 queries ran, 2 have spans');
  assert.equal(server.attributes['bitville.sql.omitted_duration_ms'], 20, '70 ms of SQL, 50 ms in spans');
  assert.equal(server.attributes['server.address'], 'shop.example', 'from the Host header of a relative URL');
  assert.deepEqual(server.status, { code: 2, message: 'Maximum execution time exceeded' });
  assert.equal(server.parentSpanContext?.spanId, '00f067aa0ba902b7', 'joins the trace of the Traceparent request header');
  assert.equal(server.spanContext().traceState?.get('vendor'), '1');
  const fns = children.filter((s) => s.kind === 0); // INTERNAL
  assert.deepEqual(fns.map((s) => s.name), ['Cart::load'], 'functionSpans 1; main() and timings longer than the request left out');
  assert.equal(fns[0]?.attributes['bitville.function.self_time_ms'], 10);
  const all = profileSpans(row(true, { queries: 50, functions: 3 }), options(50, 3));
  assert.equal(all.filter((s) => s.kind === 2).length, 3);
  assert.equal(all[0]?.attributes['bitville.sql.omitted_spans'], 2, 'queries the client counted but did not list are counted too');
});
