import { correlationIds } from '../../extract/correlation-ids.js';
import { first, isObj, num, obj, str } from '../../extract/fields.js';
import { unpackPayload } from '../../store/payload-codec.js';
import type { ExportRow } from '../../store/store.js';

/** A GELF 1.1 message (https://go2docs.graylog.org/current/getting_in_log_data/gelf.html): strings and numbers only. */
export type GelfMessage = Record<string, string | number>;

/** Linked request ids listed in `_linked_ids` of a Postgres record. */
const MAX_LINKED_IDS = 20;

/** Syslog severities GELF uses. */
const LEVEL = { critical: 2, error: 3, warning: 4, notice: 5, info: 6 } as const;

/**
 * One stored record as one GELF message. Profiles: the indexed columns as additional fields, the
 * payload as received in `full_message`, cut at `fullMessageMaxBytes` on a UTF-8 boundary (then
 * `_full_message_truncated: 1` and `_payload_bytes` say so). Postgres-agent records: source, linked
 * request ids and their payload the same way.
 */
export function gelfMessage(row: ExportRow, fullMessageMaxBytes: number): GelfMessage {
  const p = row.profile;
  const body = unpackPayload(row.encoding, row.stored);
  const m: GelfMessage = p
    ? {
        version: '1.1',
        host: p.host || 'unknown',
        short_message: `${p.method} ${p.url} ${round(p.duration_ms)} ms`,
        timestamp: Math.round(row.timestamp * 1000) / 1000,
        level: p.is_error ? LEVEL.error : p.status !== null && p.status >= 400 ? LEVEL.warning : LEVEL.info,
        _project: row.project,
        _correlation_id: row.key,
        _url: p.url,
        _method: p.method,
        _duration_ms: round(p.duration_ms),
        _sql_count: p.sql_count,
        _sql_ms: round(p.sql_ms),
        _endpoint: p.endpoint,
        _source: row.source,
      }
    : activityMessage(row, body);
  if (p && p.status !== null) m._status = p.status;
  const full = cutUtf8(body, fullMessageMaxBytes);
  if (full.length > 0) m.full_message = full.toString('utf8');
  if (full.length < body.length) {
    m._full_message_truncated = 1;
    m._payload_bytes = body.length;
  }
  return m;
}

function activityMessage(row: ExportRow, bytes: Buffer): GelfMessage {
  let payload: unknown = null;
  try {
    payload = JSON.parse(bytes.toString('utf8'));
  } catch {
    // stored bodies are JSON objects; a damaged one still gets a message, without the parsed fields
  }
  const body = obj(payload);
  const data = obj(body.data);
  const ids = correlationIds(payload).filter((id) => id !== row.key);
  const host = first(str(body.hostname), str(body.host), str(obj(body.server).hostname), str(data.hostname)) ?? 'unknown';
  const severity = (first(str(data.error_severity), str(data.severity), str(body.severity)) ?? '').toUpperCase();
  const text = first(str(data.message), str(body.message));
  const count = first(num(data.count), Array.isArray(data.sessions) ? data.sessions.length : null, Array.isArray(data.locks) ? data.locks.length : null);
  const m: GelfMessage = {
    version: '1.1',
    host,
    short_message: `${row.source}${text ? `: ${text.slice(0, 200)}` : count !== null ? `: ${count} rows` : ''}${ids.length > 0 ? ` (${ids.length} linked requests)` : ''}`,
    timestamp: Math.round(row.timestamp * 1000) / 1000,
    level: severityLevel(severity),
    _project: row.project,
    _source: row.source,
    _record_key: row.key,
  };
  if (ids[0] !== undefined) m._correlation_id = ids[0];
  if (ids.length > 0) m._linked_ids = ids.slice(0, MAX_LINKED_IDS).join(',');
  if (isObj(body) && typeof body.database === 'string') m._database = body.database;
  return m;
}

function severityLevel(s: string): number {
  if (s === 'PANIC' || s === 'FATAL') return LEVEL.critical;
  if (s === 'ERROR') return LEVEL.error;
  if (s === 'WARNING') return LEVEL.warning;
  if (s === 'NOTICE') return LEVEL.notice;
  return LEVEL.info;
}

/** The first at most `max` bytes, never ending inside a UTF-8 sequence. */
export function cutUtf8(bytes: Buffer, max: number): Buffer {
  if (bytes.length <= max) return bytes;
  let end = max;
  // Step back over continuation bytes (10xxxxxx) to the start of the cut character, and drop it.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
