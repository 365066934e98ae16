/**
 * One pass over a message's bytes, without building any object (issue 10): is it shaped like one
 * JSON object, how deep does it nest, and does it carry non-empty string `correlation_id` and
 * `project` keys at the top level. It checks what can go wrong in practice — a message cut off,
 * binary garbage, two writes interleaved, stray text between values, nesting beyond the limit —
 * but not the full grammar (a missing comma or colon, a number like `1.2.3`, an invalid escape
 * pass). The listener parses every line fully and rejects those there, per line and counted, so
 * the daemon does not pay a second full parse on every busy web server for them.
 * `ingest.validation: full` restores the full JSON.parse on the daemon (docs/daemon.md).
 */
import { stringEnd } from './json-limits.js';

export type ScanResult =
  | {
      kind: 'object';
      /** Byte length of the top-level string `correlation_id` (escapes included); 0 when absent or empty. */
      idBytes: number;
      /** A non-empty string `project` at the top level. */
      hasProject: boolean;
    }
  | { kind: 'too_deep' }
  | { kind: 'not_json' }
  /** Does not start with `{`: rare, so the caller decides with a full parse (`[1]`, `null`, garbage). */
  | { kind: 'not_an_object_start' };

const QUOTE = 0x22;

/** Bytes allowed between strings: structure, whitespace, numbers and the letters of true/false/null. */
const BETWEEN = new Uint8Array(256);
for (const c of '{}[],: \t\r\n0123456789+-.eEtrufalsn') BETWEEN[c.charCodeAt(0)] = 1;
const OPEN = 1;
const CLOSE = 2;
const KIND = new Uint8Array(256);
KIND[0x7b] = OPEN; // {
KIND[0x5b] = OPEN; // [
KIND[0x7d] = CLOSE; // }
KIND[0x5d] = CLOSE; // ]

const CORRELATION_ID = Buffer.from('correlation_id');
const PROJECT = Buffer.from('project');

export function scanMessage(b: Buffer, maxDepth: number): ScanResult {
  const n = b.length;
  let i = 0;
  while (i < n && isSpace(b[i] as number)) i++;
  if (i === n) return { kind: 'not_json' };
  if (b[i] !== 0x7b) return { kind: 'not_an_object_start' };
  // a stack of closers, so `{]` is caught; depth is bounded by maxDepth, so this stays small
  const closers: number[] = [];
  let idBytes = 0;
  let hasProject = false;
  let expectKey = false; // at depth 1, right after `{` or `,`: the next string is a key
  let pendingKey: 'id' | 'project' | null = null; // a top-level key whose value comes next
  let ended = false;
  for (; i < n; i++) {
    const c = b[i] as number;
    if (c === QUOTE) {
      const end = stringEnd(b, i);
      if (end < 0) return { kind: 'not_json' }; // cut off inside a string
      if (closers.length === 1) {
        if (expectKey) {
          const len = end - i - 1;
          pendingKey = len === 14 && b.compare(CORRELATION_ID, 0, 14, i + 1, end) === 0 ? 'id' : len === 7 && b.compare(PROJECT, 0, 7, i + 1, end) === 0 ? 'project' : null;
          expectKey = false;
        } else if (pendingKey) {
          // the last occurrence wins, as in JSON.parse
          if (pendingKey === 'id') idBytes = end - i - 1;
          else hasProject = end - i - 1 > 0;
          pendingKey = null;
        }
      }
      i = end;
      continue;
    }
    if (ended) {
      if (!isSpace(c)) return { kind: 'not_json' }; // something after the object: two writes interleaved
      continue;
    }
    if (!BETWEEN[c]) return { kind: 'not_json' };
    const k = KIND[c];
    if (k === OPEN) {
      if (closers.length >= maxDepth) return { kind: 'too_deep' };
      closers.push(c === 0x7b ? 0x7d : 0x5d);
      if (closers.length === 2) pendingKey = null; // a nested value, not a string
      expectKey = closers.length === 1;
    } else if (k === CLOSE) {
      if (closers.pop() !== c) return { kind: 'not_json' };
      if (closers.length === 0) ended = true;
    } else if (closers.length === 1) {
      if (c === 0x2c) {
        expectKey = true; // `,` at the top level: a key follows
        pendingKey = null;
      } else if (c !== 0x3a && !isSpace(c)) pendingKey = null; // a number or literal value
    }
  }
  if (!ended) return { kind: 'not_json' }; // cut off: brackets still open
  return { kind: 'object', idBytes, hasProject };
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
