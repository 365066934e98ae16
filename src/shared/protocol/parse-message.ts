import { randomUUID } from 'node:crypto';
import { MAX_CORRELATION_ID_CHARS, MAX_JSON_DEPTH, withinDepth } from './json-limits.js';
import type { RejectCode } from './reject-codes.js';

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
 */
export function parseMessage(raw: Buffer): ParseOutcome {
  const end = trimEnd(raw);
  const bytes = end === raw.length ? raw : raw.subarray(0, end);
  if (!withinDepth(bytes, MAX_JSON_DEPTH)) return { kind: 'rejected', code: 'too_deep' };
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
