import { SpanKind, SpanStatusCode, type Attributes, type HrTime, type SpanContext } from '@opentelemetry/api';
import { createTraceState } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { first, isObj, num, obj, str, type Obj } from '../../extract/fields.js';
import { sqlFingerprint } from '../../extract/sql-fingerprint.js';
import { xhprofFunctions } from '../../extract/xhprof-functions.js';
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
const DRIVER_SYSTEM: Readonly<Record<string, string>> = { pgsql: 'postgresql', postgres: 'postgresql', postgresql: 'postgresql', mysql: 'mysql', mariadb: 'mariadb', sqlite: 'sqlite', sqlsrv: 'mssql', oci: 'oracle' };

/**
 * One profile as one trace (docs/exporters.md has the mapping table): a SERVER span for the request
 * with the HTTP semantic conventions, a CLIENT child per SQL query (the slowest `maxSqlSpans`) at its
 * measured start when the payload has one (`start_ms`), else one after another from the request
 * start, and INTERNAL children for the functions with the most inclusive time. A payload that is not
 * a JSON object still gives the SERVER span, from the indexed columns.
 */
export function profileSpans(row: ExportRow, o: SpanOptions): ReadableSpan[] {
  const p = row.profile;
  if (!p) return [];
  let payload: Obj = {};
  try {
    const parsed: unknown = JSON.parse(row.body.toString('utf8'));
    if (isObj(parsed)) payload = parsed;
  } catch {
    // stored bodies are JSON objects; a damaged one keeps its indexed fields
  }
  const ctx = traceContext(payload, row.project, row.key);
  const startS = first(num(obj(payload.timing).start_time), row.timestamp) ?? row.timestamp;
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

  const fatal = obj(payload.fatal_error);
  const fatalMessage = str(fatal.message);
  const error = p.is_error ? (fatalMessage ? fatalMessage.slice(0, 500) : p.status !== null ? `HTTP ${p.status}` : 'error') : null;
  const spans = [span(p.endpoint, SpanKind.SERVER, serverContext, parent, startUs, endUs, serverAttributes(row, payload), error)];

  const sqlSystem = dbSystem(payload, o.dbSystem);
  let cursorUs = startUs;
  sqlQueries(payload, o.maxSqlSpans).forEach((q, i) => {
    const estimated = q.startMs === null;
    const s = q.startMs === null ? cursorUs : startUs + Math.round(q.startMs * 1000);
    const e = s + Math.round((q.ms ?? 0) * 1000);
    if (estimated) cursorUs = e;
    const { fingerprint, operation, target } = describeSql(q.text);
    const attributes: Attributes = { 'db.system': q.system ?? sqlSystem, 'db.query.text': cut(fingerprint) };
    if (operation) attributes['db.operation.name'] = operation;
    if (target) attributes['db.collection.name'] = target;
    if (estimated) attributes['bitville.start_estimated'] = true;
    const name = operation ? (target ? `${operation} ${target}` : operation) : String(attributes['db.system']);
    spans.push(span(name, SpanKind.CLIENT, context(ids(1 + i)), serverContext, s, e, attributes, null));
  });

  const durationMs = p.duration_ms;
  xhprofFunctions(payload.xhprof)
    .filter((f) => f.name !== 'main()' && f.wallMs > 0 && f.wallMs <= durationMs * 1.01) // timings that fit the request
    .slice(0, o.functionSpans)
    .forEach((f, i) => {
      const attributes: Attributes = { 'code.function.name': cut(f.name), 'bitville.function.calls': f.calls, 'bitville.function.aggregated': true };
      if (f.selfMs !== null) attributes['bitville.function.self_time_ms'] = f.selfMs;
      spans.push(span(f.name.slice(0, 200), SpanKind.INTERNAL, context(ids(100_000 + i)), serverContext, startUs, startUs + Math.round(f.wallMs * 1000), attributes, null));
    });
  return spans;
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
  fingerprint: string;
  operation: string | null;
  target: string | null;
}

/**
 * Fingerprints of recent query texts. Prepared statements (placeholders, not values) repeat the
 * same text in request after request, and fingerprinting is the costliest step per query.
 */
const described = new Map<string, SqlDescription>();
const MAX_DESCRIBED = 5_000;

function describeSql(text: string): SqlDescription {
  const known = described.get(text);
  if (known) return known;
  const fingerprint = sqlFingerprint(text);
  const operation = /^\s*([a-z]+)/i.exec(fingerprint)?.[1]?.toUpperCase() ?? null;
  const target = /\b(?:from|into|update|join)\s+([`"[\]\w.]+)/i.exec(fingerprint)?.[1]?.replace(/[`"[\]]/g, '') ?? null;
  const d = { fingerprint, operation, target };
  if (text.length <= 2_000) {
    if (described.size >= MAX_DESCRIBED) described.clear();
    described.set(text, d);
  }
  return d;
}

function serverAttributes(row: ExportRow, payload: Obj): Attributes {
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
  if (!parsed) {
    const host = str(obj(obj(payload.request).headers).Host) ?? str(obj(obj(payload.request).headers).host);
    if (host) a['server.address'] = host.replace(/:\d+$/, '');
  }
  if (p.status !== null) a['http.response.status_code'] = p.status;
  if (p.host) a['host.name'] = p.host;
  a['bitville.correlation_id'] = row.key;
  a['bitville.endpoint'] = p.endpoint;
  a['bitville.sql.count'] = p.sql_count;
  a['bitville.sql.duration_ms'] = p.sql_ms;
  return a;
}

interface Query {
  text: string;
  ms: number | null;
  /** Offset from the request start, ms; null when the payload does not say. */
  startMs: number | null;
  system: string | null;
}

/** The slowest `max` queries, in the order they ran (by start when known, else as listed). */
function sqlQueries(payload: Obj, max: number): Query[] {
  const sql: Obj = Array.isArray(payload.sql) ? { queries: payload.sql } : obj(payload.sql);
  const list = Array.isArray(sql.queries) ? sql.queries : [];
  const startS = num(obj(payload.timing).start_time);
  const out: (Query & { index: number })[] = [];
  list.forEach((q, index) => {
    if (typeof q === 'string') {
      out.push({ text: q, ms: null, startMs: null, system: null, index });
      return;
    }
    if (!isObj(q)) return;
    const text = first(str(q.sql), str(q.query), str(q.statement));
    if (text === null) return;
    const absolute = num(q.start_time) ?? num(q.started_at);
    const startMs = num(q.start_ms) ?? (absolute !== null && startS !== null && absolute > 1e9 ? (absolute - startS) * 1000 : null);
    const driver = str(q.db_system) ?? str(q.driver);
    out.push({ text, ms: first(num(q.duration_ms), num(q.time_ms), num(q.elapsed_ms)), startMs: startMs !== null && startMs >= 0 ? startMs : null, system: driver ? (DRIVER_SYSTEM[driver] ?? driver) : null, index });
  });
  if (out.length > max) {
    out.sort((a, b) => (b.ms ?? 0) - (a.ms ?? 0));
    out.length = max;
    out.sort((a, b) => a.index - b.index);
  }
  return out;
}

function dbSystem(payload: Obj, fallback: string): string {
  const sql = obj(payload.sql);
  const d = str(sql.db_system) ?? str(sql.driver) ?? str(payload.db_system);
  return d ? (DRIVER_SYSTEM[d] ?? d) : fallback;
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
