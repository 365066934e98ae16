import { createHash } from 'node:crypto';
import { correlationIds } from './correlation-ids.js';
import { encodeExportFacts, exportFacts, rawQuery, type ExportFacts, type FactLimits, type RawQuery } from './export-facts.js';
import { first, num, obj, str, type Obj } from './fields.js';
import { endpointKey } from './normalize-path.js';
import { sqlFingerprint } from './sql-fingerprint.js';
import { xhprofFunctions, type FunctionSample } from './xhprof-functions.js';
import type { PayloadEncoding } from '../store/payload-codec.js';

/** Sources the Postgres agent sends; everything else is a request profile. */
export const ACTIVITY_SOURCES = new Set(['pg_stat_activity', 'pg_stat_statements', 'pg_locks', 'pg_log', 'system_metrics']);
export const PROFILE_SOURCE = 'php';
/** Queries fingerprinted per request; the slowest ones, so a huge capture stays cheap. */
export const MAX_QUERIES_PER_REQUEST = 200;

export interface QuerySample {
  fingerprint: string;
  /** Null when the sender gave no time for this query. */
  ms: number | null;
}

export interface ProfileRecord {
  kind: 'profile';
  project: string;
  source: string;
  correlationId: string;
  /** Unix seconds. */
  timestamp: number;
  method: string;
  url: string;
  endpoint: string;
  status: number | null;
  durationMs: number;
  host: string;
  sqlCount: number;
  sqlMs: number;
  isError: boolean;
  queries: QuerySample[];
  functions: FunctionSample[];
  /** What the OTLP exporter needs (export-facts.ts, encoded); null unless asked for at extraction. */
  facts: string | null;
  /** The payload as received, encoded as `bodyEncoding` says (identity = the received bytes). */
  body: Buffer;
  bodyEncoding: PayloadEncoding;
}

export interface ActivityRecord {
  kind: 'activity';
  project: string;
  source: string;
  /** Top-level correlation_id, or a content hash when it is empty, so a re-sent record is a duplicate. */
  recordKey: string;
  timestamp: number;
  /** Request correlation ids this record mentions (application_name, SQL comments, nested fields). */
  linkedIds: string[];
  /** As in ProfileRecord. */
  body: Buffer;
  bodyEncoding: PayloadEncoding;
}

export type ExtractedRecord = ProfileRecord | ActivityRecord;

/**
 * Indexed fields from whichever payload variant is present (DESIGN section 9 and the shapes
 * existing agents send: `request.url|uri`, `timing.elapsed_ms|duration_ms`, `sql.summary` or
 * `sql.total_queries`, `queries[].sql|query` with `time_ms|duration_ms`). Never fails: a field that
 * cannot be read gets a neutral value, and the payload is stored unchanged either way.
 * `as: 'activity'` (the /ingest/postgres route) stores the record as database activity whatever its source.
 * `facts` (set while an OTLP exporter is configured): also keep what exporting a profile needs.
 */
export function extractRecord(payload: Obj, body: Buffer, now: () => number = Date.now, as: 'auto' | 'activity' = 'auto', facts: FactLimits | null = null): ExtractedRecord {
  // Bounded like the other indexed text fields: it is in every index (a PostgreSQL btree entry holds at most ~2.7 KB).
  const project = (str(payload.project) ?? 'default').slice(0, 256);
  const source = str(payload.source) ?? (as === 'activity' ? 'postgres' : PROFILE_SOURCE);
  const timestamp = unixSeconds(payload, now);
  const topId = str(payload.correlation_id);
  if (as === 'activity' || ACTIVITY_SOURCES.has(source)) {
    return {
      kind: 'activity',
      project,
      source,
      recordKey: topId ?? contentKey(body),
      timestamp,
      linkedIds: correlationIds(payload),
      body,
      bodyEncoding: 'identity',
    };
  }
  const request = obj(payload.request);
  const response = obj(payload.response);
  const timing = obj(payload.timing);
  const server = obj(payload.server);
  const headers = obj(request.headers);
  const method = (str(request.method) ?? str(payload.method) ?? (str(server.sapi) === 'cli' ? 'CLI' : 'UNKNOWN')).toUpperCase().slice(0, 16);
  const url = (first(str(request.url), str(request.uri), str(request.request_uri), str(payload.url), str(payload.uri)) ?? '/').slice(0, 4000);
  const start = num(timing.start_time);
  const end = num(timing.end_time);
  const durationMs =
    first(num(payload.elapsed_ms), num(timing.elapsed_ms), num(timing.duration_ms), num(payload.duration_ms), start !== null && end !== null ? (end - start) * 1000 : null) ?? 0;
  const status = first(num(response.status_code), num(response.status), num(payload.status_code), num(payload.status));
  const host = (first(str(server.hostname), str(payload.hostname), str(payload.host), str(headers.Host), str(headers.host)) ?? '').slice(0, 255);
  const sql = readSql(payload.sql, start);
  const fatal = payload.fatal_error;
  const functions = xhprofFunctions(payload.xhprof);
  const duration = Math.max(0, durationMs);
  return {
    kind: 'profile',
    project,
    source,
    correlationId: topId ?? contentKey(body),
    timestamp,
    method,
    url,
    endpoint: endpointKey(method, url),
    status: status === null ? null : Math.trunc(status),
    durationMs: duration,
    host,
    sqlCount: sql.count,
    sqlMs: sql.ms,
    isError: (status !== null && status >= 500) || (fatal !== undefined && fatal !== null && fatal !== false),
    queries: sql.queries.map((q) => ({ fingerprint: q.fingerprint, ms: q.ms })),
    functions,
    facts: facts ? encodeExportFacts(exportFacts(payload, duration, sql.queries, functions, facts)) : null,
    body,
    bodyEncoding: 'identity',
  };
}

/** The export facts of a payload stored without them (the OTLP exporter's slow path). */
export function extractFacts(payload: Obj, durationMs: number, limits: FactLimits): ExportFacts {
  const sql = readSql(payload.sql, num(obj(payload.timing).start_time));
  return exportFacts(payload, durationMs, sql.queries, xhprofFunctions(payload.xhprof), limits);
}

function readSql(value: unknown, startS: number | null): { count: number; ms: number; queries: (RawQuery & { fingerprint: string })[] } {
  const sql: Obj = Array.isArray(value) ? { queries: value } : obj(value);
  const summary = obj(sql.summary);
  const list = Array.isArray(sql.queries) ? sql.queries : [];
  const raw: RawQuery[] = [];
  let summed = 0;
  for (let index = 0; index < list.length; index++) {
    const q = rawQuery(list[index], index, startS);
    if (q === null) continue;
    if (q.ms !== null) summed += q.ms;
    raw.push(q);
  }
  if (raw.length > MAX_QUERIES_PER_REQUEST) raw.sort((a, b) => (b.ms ?? 0) - (a.ms ?? 0)).length = MAX_QUERIES_PER_REQUEST;
  // Explicit fields, not a spread: {...q} measured ~2 µs per query here (V8's object clone), as much as fingerprinting.
  const queries = raw.map((q) => ({ text: q.text, ms: q.ms, startMs: q.startMs, system: q.system, index: q.index, fingerprint: sqlFingerprint(q.text) }));
  return {
    count: Math.trunc(first(num(summary.total_queries), num(sql.total_queries), num(sql.count)) ?? list.length),
    ms: first(num(summary.total_time_ms), num(sql.total_duration_ms), num(sql.total_time_ms), num(sql.total_ms)) ?? summed,
    queries,
  };
}

/** Unix seconds from the first timestamp present; milliseconds are recognised by size. */
function unixSeconds(payload: Obj, now: () => number): number {
  const timing = obj(payload.timing);
  const t = first(num(payload.timestamp), num(timing.start_time), num(obj(payload.request).timestamp), num(obj(payload._meta).timestamp));
  if (t === null || t <= 0) return now() / 1000;
  return t > 1e11 ? t / 1000 : t;
}

function contentKey(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex').slice(0, 40)}`;
}
