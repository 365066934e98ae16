import { first, isObj, num, obj, str, type Obj } from './fields.js';
import type { FunctionSample } from './xhprof-functions.js';

/**
 * What the OTLP exporter needs from a profile besides its indexed columns, kept at ingest while an
 * OTLP exporter is configured (docs/exporters.md "Kept at ingest"), so exporting never parses the
 * stored payload or fingerprints its SQL again. Rows stored without them (older rows, OTLP enabled
 * later) are exported the slow way: their payload is parsed and these facts derived from it.
 */
export interface ExportFacts {
  /** `timing.start_time`, unix seconds. */
  start: number | null;
  trace: TraceFields;
  /** The fatal error's message, cut to 500 characters. */
  fatal: string | null;
  /** The request's Host header (for server.address when the URL is relative). */
  hostHeader: string | null;
  /** `sql.db_system` / `sql.driver` / `db_system` of the whole profile, as sent. */
  dbSystem: string | null;
  /** The slowest `limits.queries` queries, in the order they ran. */
  queries: FactQuery[];
  /** The functions with the most inclusive time that fit in the request (main() left out), most first. */
  functions: FunctionSample[];
}

export interface FactQuery {
  fingerprint: string;
  ms: number | null;
  /** Offset from the request start, ms; null when the payload does not say. */
  startMs: number | null;
  /** The query's own `db_system` / `driver`, as sent. */
  system: string | null;
}

/** The W3C trace context a profile carries, raw: trace-context.ts validates and resolves it. */
export interface TraceFields {
  /** The incoming `traceparent` (the client's `trace.traceparent`, else a recorded request header). */
  traceparent: string | null;
  tracestate: string | null;
  /** The ids the PHP client handed out for this request (`trace.trace_id`, `trace.span_id`). */
  traceId: string | null;
  spanId: string | null;
}

/** How many queries and functions are kept: the OTLP exporter's maxSqlSpans and functionSpans. */
export interface FactLimits {
  queries: number;
  functions: number;
}

/** One query as ingest reads it (extract-record.ts), before fingerprinting. */
export interface RawQuery {
  text: string;
  ms: number | null;
  startMs: number | null;
  system: string | null;
  /** Position in the payload's list: the order the queries ran. */
  index: number;
}

/** Attribute strings are cut here (backends refuse or cut longer values), so stored facts stay bounded too. */
export const MAX_FACT_CHARS = 4096;

/** Facts from a parsed payload; `queries` are the ingest's fingerprinted queries (the slowest first or in order). */
export function exportFacts(payload: Obj, durationMs: number, queries: readonly (RawQuery & { fingerprint: string })[], functions: readonly FunctionSample[], limits: FactLimits): ExportFacts {
  const headers = obj(obj(payload.request).headers);
  const sql = obj(payload.sql);
  const fatal = str(obj(payload.fatal_error).message);
  const kept = queries.slice();
  if (kept.length > limits.queries) {
    kept.sort((a, b) => (b.ms ?? 0) - (a.ms ?? 0) || a.index - b.index);
    kept.length = limits.queries;
  }
  kept.sort((a, b) => a.index - b.index);
  const trace = obj(payload.trace);
  return {
    start: num(obj(payload.timing).start_time),
    trace: {
      traceparent: str(trace.traceparent) ?? headerValue(headers, 'traceparent'),
      tracestate: str(trace.tracestate) ?? headerValue(headers, 'tracestate'),
      traceId: str(trace.trace_id),
      spanId: str(trace.span_id),
    },
    fatal: fatal === null ? null : fatal.slice(0, 500),
    hostHeader: headerValue(headers, 'host'),
    dbSystem: first(str(sql.db_system), str(sql.driver), str(payload.db_system)),
    queries: kept.map((q) => ({ fingerprint: cut(q.fingerprint), ms: q.ms, startMs: q.startMs, system: q.system })),
    functions: functions
      .filter((f) => f.name !== 'main()' && f.wallMs > 0 && f.wallMs <= durationMs * 1.01) // timings that fit the request
      .slice(0, limits.functions)
      .map((f) => ({ name: cut(f.name), wallMs: f.wallMs, selfMs: f.selfMs, calls: f.calls })),
  };
}

/** A query entry of `sql.queries` (or a bare `sql` list) as ingest reads it; null for one without text. */
export function rawQuery(q: unknown, index: number, startS: number | null): RawQuery | null {
  if (typeof q === 'string') return { text: q, ms: null, startMs: null, system: null, index };
  if (!isObj(q)) return null;
  const text = first(str(q.sql), str(q.query), str(q.statement));
  if (text === null) return null;
  const absolute = num(q.start_time) ?? num(q.started_at);
  const startMs = num(q.start_ms) ?? (absolute !== null && startS !== null && absolute > 1e9 ? (absolute - startS) * 1000 : null);
  return { text, ms: first(num(q.time_ms), num(q.duration_ms), num(q.elapsed_ms)), startMs: startMs !== null && startMs >= 0 ? startMs : null, system: first(str(q.db_system), str(q.driver)), index };
}

/**
 * Stored as compact JSON (queries and functions as tuples, nulls left out), version 1. About 2 KB
 * for a profile with 14 queries; compressing it cost more CPU at ingest and export than parsing
 * the saved bytes (measured, docs/benchmarks.md "Exporters").
 */
export function encodeExportFacts(f: ExportFacts): string {
  const o: Record<string, unknown> = { v: 1 };
  if (f.start !== null) o.s = f.start;
  if (f.trace.traceparent !== null) o.tp = f.trace.traceparent;
  if (f.trace.tracestate !== null) o.tst = f.trace.tracestate;
  if (f.trace.traceId !== null) o.ti = f.trace.traceId;
  if (f.trace.spanId !== null) o.si = f.trace.spanId;
  if (f.fatal !== null) o.fe = f.fatal;
  if (f.hostHeader !== null) o.hh = f.hostHeader;
  if (f.dbSystem !== null) o.db = f.dbSystem;
  o.q = f.queries.map((q) => [q.fingerprint, q.ms, q.startMs, q.system]);
  o.f = f.functions.map((x) => [x.name, x.calls, x.wallMs, x.selfMs]);
  return JSON.stringify(o);
}

/** The facts back from their stored form; null when they are not version 1 facts (then the payload is used). */
export function decodeExportFacts(text: string): ExportFacts | null {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObj(o) || o.v !== 1 || !Array.isArray(o.q) || !Array.isArray(o.f)) return null;
  const queries: FactQuery[] = [];
  for (const q of o.q) {
    if (!Array.isArray(q) || typeof q[0] !== 'string') return null;
    queries.push({ fingerprint: q[0], ms: num(q[1]), startMs: num(q[2]), system: str(q[3]) });
  }
  const functions: FunctionSample[] = [];
  for (const x of o.f) {
    if (!Array.isArray(x) || typeof x[0] !== 'string') return null;
    functions.push({ name: x[0], calls: num(x[1]) ?? 1, wallMs: num(x[2]) ?? 0, selfMs: num(x[3]) });
  }
  return {
    start: num(o.s),
    trace: { traceparent: str(o.tp), tracestate: str(o.tst), traceId: str(o.ti), spanId: str(o.si) },
    fatal: str(o.fe),
    hostHeader: str(o.hh),
    dbSystem: str(o.db),
    queries,
    functions,
  };
}

function headerValue(headers: Obj, name: string): string | null {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return Array.isArray(v) ? str(v[0]) : str(v);
  return null;
}

function cut(s: string): string {
  return s.length > MAX_FACT_CHARS ? s.slice(0, MAX_FACT_CHARS) : s;
}
