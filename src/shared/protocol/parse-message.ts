import { randomUUID } from 'node:crypto';
import { MAX_CORRELATION_ID_CHARS, MAX_JSON_DEPTH, withinDepth } from './json-limits.js';
import type { RejectCode } from './reject-codes.js';
import { scanMessage } from './scan-message.js';

/**
 * How much the daemon checks (`ingest.validation`). structural (default): one pass over the
 * bytes (scan-message.ts), a full parse only when the message must be rewritten; full: JSON.parse
 * of every message, as DESIGN section 2 first described. docs/benchmarks.md has the cost of each.
 */
export type Validation = 'structural' | 'full';

export type ParseOutcome =
  /** `bytes` is one compact JSON object without a newline, ready to be a spool line. */
  | { kind: 'accepted'; bytes: Buffer; filledDefaults: boolean }
  | { kind: 'rejected'; code: RejectCode };

const NEWLINE = 0x0a;

/**
 * Validates one message (DESIGN section 2): it must be a JSON object. A message without a string
 * `correlation_id` or `project` is accepted with a generated id / `project: "default"`.
 * The bytes are kept as sent unless they must change (defaults filled, or an embedded newline
 * from a pretty-printed UDP datagram or inbox file, which would break NDJSON).
 * The nesting depth is checked before JSON.parse (json-limits.ts): a deep message is refused
 * before it can cost anyone else time, and nothing after it recurses deeper than the limit.
 * Everything that must be rewritten (defaults, newlines) takes the full parse in both modes.
 */
export function parseMessage(raw: Buffer, validation: Validation = 'structural'): ParseOutcome {
  const end = trimEnd(raw);
  const bytes = end === raw.length ? raw : raw.subarray(0, end);
  if (validation === 'structural') {
    const scan = scanMessage(bytes, MAX_JSON_DEPTH);
    if (scan.kind === 'too_deep') return { kind: 'rejected', code: 'too_deep' };
    if (scan.kind === 'not_json') return { kind: 'rejected', code: 'invalid_json' };
    // The common case, kept as sent: ids and project present, one line, and an id certainly short enough.
    if (scan.kind === 'object' && scan.idBytes > 0 && scan.idBytes <= MAX_CORRELATION_ID_CHARS && scan.hasProject && !bytes.includes(NEWLINE)) {
      return { kind: 'accepted', bytes, filledDefaults: false };
    }
    // an object the scan already measured, or anything else, which still gets its depth checked below
    if (scan.kind === 'not_an_object_start' && !withinDepth(bytes, MAX_JSON_DEPTH)) return { kind: 'rejected', code: 'too_deep' };
  } else if (!withinDepth(bytes, MAX_JSON_DEPTH)) return { kind: 'rejected', code: 'too_deep' };
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { kind: 'rejected', code: 'invalid_json' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'rejected', code: 'not_object' };
  const message = value as Record<string, unknown>;
  if (typeof message.correlation_id === 'string' && message.correlation_id.length > MAX_CORRELATION_ID_CHARS) return { kind: 'rejected', code: 'id_too_long' };
  const hasId = typeof message.correlation_id === 'string' && message.correlation_id !== '';
  const hasProject = typeof message.project === 'string' && message.project !== '';
  if (hasId && hasProject) {
    return { kind: 'accepted', bytes: bytes.includes(NEWLINE) ? Buffer.from(JSON.stringify(message)) : bytes, filledDefaults: false };
  }
  if (!hasId) message.correlation_id = randomUUID();
  if (!hasProject) message.project = 'default';
  return { kind: 'accepted', bytes: Buffer.from(JSON.stringify(message)), filledDefaults: true };
}

/** Index after the last byte that is not JSON whitespace (CRLF senders, trailing spaces). */
function trimEnd(raw: Buffer): number {
  let end = raw.length;
  while (end > 0) {
    const c = raw[end - 1];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    end--;
  }
  return end;
}
