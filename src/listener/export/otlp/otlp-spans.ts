import { SpanKind, SpanStatusCode, type Attributes, type HrTime, type SpanContext } from '@opentelemetry/api';
import { createTraceState } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { decodeExportFacts, type ExportFacts } from '../../extract/export-facts.js';
import { extractFacts } from '../../extract/extract-record.js';
import { isObj, type Obj } from '../../extract/fields.js';
import { unpackPayload } from '../../store/payload-codec.js';
import type { ExportRow } from '../../store/store.js';
import { spanIds, traceContext } from './trace-context.js';

export interface SpanOptions {
  maxSqlSpans: number;
  functionSpans: number;
  dbSystem: string;
  /** The resource of a (project, host): shared objects, so the serializer groups spans under one. */
  resource(project: string, host: string): Resource;
  scope: { name: string; version: string };
}

/** Attribute strings are cut here: backends commonly refuse or cut longer values. */
const MAX_ATTRIBUTE_CHARS = 4096;
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
/** PDO driver names (and common spellings) to OpenTelemetry `db.system` values. */
const DRIVER_SYSTEM: Readonly<Record<string, string>> = {
  pgsql: 'postgresql',
  postgres: 'postgresql',
  postgresql: 'postgresql',
  mysql: 'mysql',
  mariadb: 'mariadb',
  sqlite: 'sqlite',
  sqlite2: 'sqlite',
  sqlsrv: 'mssql',
  mssql: 'mssql',
  dblib: 'mssql',
  oci: 'oracle',
  oracle: 'oracle',
  firebird: 'firebird',
  ibm: 'db2',
  informix: 'informix',
  odbc: 'other_sql',
};

/**
 * One profile as one trace (docs/exporters.md has the mapping table): a SERVER span for the request
 * with the HTTP semantic conventions, a CLIENT child per SQL query (the slowest `maxSqlSpans`; the
 * rest counted on the SERVER span) at its measured start when the payload has one (`start_ms`),
 * else one after another from the request start, and INTERNAL children for the functions with the
 * most inclusive time. Built from the facts kept at ingest (export-facts.ts) when the row has them;
 * else from the stored payload, and a payload that is not a JSON object still gives the SERVER span.
 */
export function profileSpans(row: ExportRow, o: SpanOptions): ReadableSpan[] {
  const p = row.profile;
  if (!p) return [];
  const f = factsOf(row, p.duration_ms, o);
  const ctx = traceContext(f.trace, row.project, row.key);
  const startS = f.start ?? row.timestamp;
  // Times in integer µs (what PHP's microtime gives): unix ns would not fit a double exactly.
  const startUs = Math.round(startS * 1e6);
  const endUs = startUs + Math.round(p.duration_ms * 1000);
  const resource = o.resource(row.project, p.host);
  const traceState = ctx.traceState ? safeTraceState(ctx.traceState) : undefined;
  const context = (spanId: string): SpanContext => ({ traceId: ctx.traceId, spanId, traceFlags: ctx.flags, traceState });
  const serverContext = context(ctx.spanId);
  const parent: SpanContext | undefined = ctx.parentSpanId ? { traceId: ctx.traceId, spanId: ctx.parentSpanId, traceFlags: ctx.flags, isRemote: true } : undefined;
  const ids = spanIds(ctx.traceId, row.key);
  const span = (name: string, kind: SpanKind, spanContext: SpanContext, parentContext: SpanContext | undefined, s: number, e: number, attributes: Attributes, error: string | null): ReadableSpan =>
    makeSpan(name, kind, spanContext, parentContext, s, e, attributes, error, resource, o.scope);

  const error = p.is_error ? (f.fatal ?? (p.status !== null ? `HTTP ${p.status}` : 'error')) : null;
  const server = serverAttributes(row, f);
  const spans = [span(p.endpoint, SpanKind.SERVER, serverContext, parent, startUs, endUs, server, error)];

  const sqlSystem = system(f.dbSystem) ?? o.dbSystem;
  const queries = slowest(f.queries, o.maxSqlSpans);
  let cursorUs = startUs;
  let spannedMs = 0;
  queries.forEach((q, i) => {
    const estimated = q.startMs === null;
    const s = q.startMs === null ? cursorUs : startUs + Math.round(q.startMs * 1000);
    const e = s + Math.round((q.ms ?? 0) * 1000);
    if (estimated) cursorUs = e;
    spannedMs += q.ms ?? 0;
    const { operation, target } = describeSql(q.fingerprint);
    const attributes: Attributes = { 'db.system': system(q.system) ?? sqlSystem, 'db.query.text': cut(q.fingerprint) };
    if (operation) attributes['db.operation.name'] = operation;
    if (target) attributes['db.collection.name'] = target;
    if (estimated) attributes['bitville.start_estimated'] = true;
    const name = operation ? (target ? `${operation} ${target}` : operation) : String(attributes['db.system']);
    spans.push(span(name, SpanKind.CLIENT, context(ids(1 + i)), serverContext, s, e, attributes, null));
  });
  // Queries without a span of their own (over maxSqlSpans, or beyond what the client recorded) stay visible as numbers.
  const omitted = p.sql_count - queries.length;
  if (omitted > 0) {
    server['bitville.sql.omitted_spans'] = omitted;
    server['bitville.sql.omitted_duration_ms'] = Math.max(0, Math.round((p.sql_ms - spannedMs) * 1000) / 1000);
  }

  f.functions.slice(0, o.functionSpans).forEach((fn, i) => {
    const attributes: Attributes = { 'code.function.name': cut(fn.name), 'bitville.function.calls': fn.calls, 'bitville.function.aggregated': true };
    if (fn.selfMs !== null) attributes['bitville.function.self_time_ms'] = fn.selfMs;
    spans.push(span(fn.name.slice(0, 200), SpanKind.INTERNAL, context(ids(100_000 + i)), serverContext, startUs, startUs + Math.round(fn.wallMs * 1000), attributes, null));
  });
  return spans;
}

/** The facts kept at ingest; else (rows stored before, or while OTLP was off) derived from the stored payload. */
function factsOf(row: ExportRow, durationMs: number, o: SpanOptions): ExportFacts {
  const kept = row.facts === null ? null : decodeExportFacts(row.facts);
  if (kept) return kept;
  let payload: Obj = {};
  try {
    const parsed: unknown = JSON.parse(unpackPayload(row.encoding, row.stored).toString('utf8'));
    if (isObj(parsed)) payload = parsed;
  } catch {
    // stored bodies are JSON objects; a damaged one keeps its indexed fields
  }
  return extractFacts(payload, durationMs, { queries: o.maxSqlSpans, functions: o.functionSpans });
}

/** The slowest `max` queries, in the order they ran (facts are in that order already). */
function slowest<T extends { ms: number | null }>(queries: readonly T[], max: number): readonly T[] {
  if (queries.length <= max) return queries;
  const keep = new Set(
    queries
      .map((q, i) => ({ ms: q.ms ?? 0, i }))
      .sort((a, b) => b.ms - a.ms || a.i - b.i)
      .slice(0, max)
      .map((x) => x.i),
  );
  return queries.filter((_, i) => keep.has(i));
}

function system(raw: string | null): string | null {
  return raw === null ? null : (DRIVER_SYSTEM[raw.toLowerCase()] ?? raw);
}

/** One shape for every span object (V8 keeps one hidden class; the serializer reads these fields). */
function makeSpan(
  name: string,
  kind: SpanKind,
  spanContext: SpanContext,
  parentSpanContext: SpanContext | undefined,
  s: number,
  e: number,
  attributes: Attributes,
  error: string | null,
  resource: Resource,
  scope: { name: string; version: string },
): ReadableSpan {
  return {
    name,
    kind,
    spanContext: () => spanContext,
    parentSpanContext,
    startTime: hr(s),
    endTime: hr(Math.max(s, e)),
    duration: hr(Math.max(0, e - s)),
    status: error === null ? UNSET : { code: SpanStatusCode.ERROR, message: error },
    attributes,
    links: NONE,
    events: NONE_EVENTS,
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

const UNSET = { code: SpanStatusCode.UNSET };
const NONE: ReadableSpan['links'] = [];
const NONE_EVENTS: ReadableSpan['events'] = [];

interface SqlDescription {
  operation: string | null;
  target: string | null;
}

/** Operation and table of recent fingerprints: they repeat request after request (literals are gone). */
const described = new Map<string, SqlDescription>();
const MAX_DESCRIBED = 5_000;

function describeSql(fingerprint: string): SqlDescription {
  const known = described.get(fingerprint);
  if (known) return known;
  const operation = /^\s*([a-z]+)/i.exec(fingerprint)?.[1]?.toUpperCase() ?? null;
  const target = /\b(?:from|into|update|join)\s+([`"[\]\w.]+)/i.exec(fingerprint)?.[1]?.replace(/[`"[\]]/g, '') ?? null;
  const d = { operation, target };
  if (fingerprint.length <= 2_000) {
    if (described.size >= MAX_DESCRIBED) described.clear();
    described.set(fingerprint, d);
  }
  return d;
}

function serverAttributes(row: ExportRow, f: ExportFacts): Attributes {
  const p = row.profile as NonNullable<ExportRow['profile']>;
  const a: Attributes = {};
  if (HTTP_METHODS.has(p.method)) a['http.request.method'] = p.method;
  else {
    a['http.request.method'] = '_OTHER';
    a['http.request.method_original'] = p.method;
  }
  let parsed: URL | null = null;
  try {
    if (/^https?:\/\//i.test(p.url)) parsed = new URL(p.url);
  } catch {
    parsed = null;
  }
  if (parsed) {
    a['url.full'] = cut(p.url);
    a['url.scheme'] = parsed.protocol.replace(':', '');
    a['server.address'] = parsed.hostname;
    if (parsed.port) a['server.port'] = Number(parsed.port);
  }
  const path = parsed ? parsed.pathname : (p.url.split('?')[0] ?? '/');
  a['url.path'] = cut(path);
  const query = parsed ? parsed.search.replace(/^\?/, '') : (p.url.split('?')[1] ?? '');
  if (query) a['url.query'] = cut(query);
  if (!parsed && f.hostHeader) a['server.address'] = f.hostHeader.replace(/:\d+$/, '');
  if (p.status !== null) a['http.response.status_code'] = p.status;
  if (p.host) a['host.name'] = p.host;
  a['bitville.correlation_id'] = row.key;
  a['bitville.endpoint'] = p.endpoint;
  a['bitville.sql.count'] = p.sql_count;
  a['bitville.sql.duration_ms'] = p.sql_ms;
  return a;
}

function hr(us: number): HrTime {
  const s = Math.floor(us / 1e6);
  return [s, (us - s * 1e6) * 1000];
}

function cut(s: string): string {
  return s.length > MAX_ATTRIBUTE_CHARS ? s.slice(0, MAX_ATTRIBUTE_CHARS) : s;
}

function safeTraceState(raw: string): ReturnType<typeof createTraceState> | undefined {
  try {
    return createTraceState(raw);
  } catch {
    return undefined;
  }
}
