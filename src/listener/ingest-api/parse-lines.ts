import { MAX_CORRELATION_ID_CHARS, MAX_JSON_DEPTH, withinDepth } from '../../shared/protocol/json-limits.js';
import type { LineError } from '../error-codes.js';
import { isObj, type Obj } from '../extract/fields.js';
import { createLineSplitter } from './line-splitter.js';

export type { LineError };

export type ParsedLine =
  | { kind: 'object'; line: number; value: Obj; bytes: Buffer }
  | { kind: 'rejected'; line: number; error: LineError };

export type ParsedObject = { kind: 'object'; value: Obj } | { kind: 'rejected'; error: Exclude<LineError, 'project_not_allowed' | 'line_too_large'> };

/**
 * One JSON object with the limits every ingest path shares with the daemon (json-limits.ts): the
 * nesting depth is checked by a one-pass scan BEFORE JSON.parse, so nothing after this (parse,
 * extraction, the read API's JSON.stringify) ever recurses deeper than MAX_JSON_DEPTH; a
 * `correlation_id` over MAX_CORRELATION_ID_CHARS is refused because it is a unique-index key and
 * a URL path segment of the detail route.
 */
export function parseObject(bytes: Buffer): ParsedObject {
  if (!withinDepth(bytes, MAX_JSON_DEPTH)) return { kind: 'rejected', error: 'too_deep' };
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { kind: 'rejected', error: 'invalid_json' };
  }
  if (!isObj(value)) return { kind: 'rejected', error: 'not_object' };
  const id = value.correlation_id;
  if (typeof id === 'string' && id.length > MAX_CORRELATION_ID_CHARS) return { kind: 'rejected', error: 'id_too_long' };
  return { kind: 'object', value };
}

/**
 * Turns split lines (line-splitter.ts) into parsed ones. `anyJson` stays false only while every
 * non-blank line was not JSON at all: such a body is not NDJSON (answered 400), whereas a body
 * of only too-deep or too-large lines gets its per-line answer.
 */
export function createLineParser(onLine: (line: ParsedLine) => void): { line(bytes: Buffer | null, lineNo: number): void; anyJson(): boolean } {
  let anyJson = false;
  return {
    line(raw, lineNo) {
      if (raw === null) {
        anyJson = true;
        onLine({ kind: 'rejected', line: lineNo, error: 'line_too_large' });
        return;
      }
      const bytes = trim(raw);
      if (bytes.length === 0) return;
      const parsed = parseObject(bytes);
      if (parsed.kind === 'object') onLine({ kind: 'object', line: lineNo, value: parsed.value, bytes });
      else onLine({ kind: 'rejected', line: lineNo, error: parsed.error });
      if (parsed.kind === 'object' || parsed.error !== 'invalid_json') anyJson = true;
    },
    anyJson: () => anyJson,
  };
}

/**
 * NDJSON: one JSON value per line; blank lines are skipped and do not count. Line numbers are
 * 1-based positions in the body, so a sender can find the line it must fix. `onLine` sees each
 * line before the next is parsed, so a caller that keeps only what it extracts lets each line's
 * object tree die young (profile of the parse worker: holding a 500-line batch's trees at once
 * made the garbage collector copy ~15 MB per batch). Returns whether any line was JSON.
 */
export function eachLine(body: Buffer, onLine: (line: ParsedLine) => void, maxLineBytes = Infinity): boolean {
  const parser = createLineParser(onLine);
  const splitter = createLineSplitter(maxLineBytes, parser.line);
  splitter.push(body);
  splitter.end();
  return parser.anyJson();
}

/** eachLine, collected. */
export function parseLines(body: Buffer, maxLineBytes = Infinity): { lines: ParsedLine[]; anyJson: boolean } {
  const lines: ParsedLine[] = [];
  const anyJson = eachLine(body, (l) => void lines.push(l), maxLineBytes);
  return { lines, anyJson };
}

function trim(b: Buffer): Buffer {
  let s = 0;
  let e = b.length;
  while (s < e && isSpace(b[s])) s++;
  while (e > s && isSpace(b[e - 1])) e--;
  return s === 0 && e === b.length ? b : b.subarray(s, e);
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0d || c === 0x09 || c === 0x0a;
}
