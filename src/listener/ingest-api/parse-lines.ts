import { isObj, type Obj } from '../extract/fields.js';

export type LineError = 'invalid_json' | 'not_object' | 'project_not_allowed';

export type ParsedLine =
  | { kind: 'object'; line: number; value: Obj; bytes: Buffer }
  | { kind: 'rejected'; line: number; error: LineError };

export interface ParsedBody {
  lines: ParsedLine[];
  /** False when not one line was JSON: the body is not NDJSON at all (answered 400). */
  anyJson: boolean;
}

const NL = 0x0a;

/**
 * NDJSON: one JSON value per line; blank lines are skipped and do not count. Line numbers are
 * 1-based positions in the body, so a sender can find the line it must fix.
 */
export function parseLines(body: Buffer): ParsedBody {
  const lines: ParsedLine[] = [];
  const anyJson = eachLine(body, (l) => void lines.push(l));
  return { lines, anyJson };
}

/**
 * parseLines one line at a time: `onLine` sees each parsed line before the next is parsed, so a caller
 * that keeps only what it extracts lets each line's object tree die young (profile of the parse worker:
 * holding a 500-line batch's trees at once made the garbage collector copy ~15 MB per batch).
 * Returns whether any line was JSON.
 */
export function eachLine(body: Buffer, onLine: (line: ParsedLine) => void): boolean {
  let anyJson = false;
  let start = 0;
  let lineNo = 0;
  while (start <= body.length) {
    let end = body.indexOf(NL, start);
    if (end < 0) end = body.length;
    lineNo++;
    const bytes = trim(body.subarray(start, end));
    start = end + 1;
    if (bytes.length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch {
      onLine({ kind: 'rejected', line: lineNo, error: 'invalid_json' });
      continue;
    }
    anyJson = true;
    if (isObj(value)) onLine({ kind: 'object', line: lineNo, value, bytes });
    else onLine({ kind: 'rejected', line: lineNo, error: 'not_object' });
  }
  return anyJson;
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
