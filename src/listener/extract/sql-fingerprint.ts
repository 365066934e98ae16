/**
 * A SQL fingerprint groups statements that differ only in their literals (the way
 * pg_stat_statements and pt-query-digest do): comments dropped, strings and numbers become `?`,
 * `IN (?, ?, ?)` and multi-row VALUES collapse, whitespace collapses. One regex pass does most of
 * the work because ingest fingerprints every captured query of every profile.
 */
// Whitespace runs are matched whole as before, except a lone plain space, which the replacer would turn
// into itself: it then runs per literal and odd run, not per word gap (half the pass's time, 10 KB profiles).
const TOKENS = /'(?:[^']|'')*'|\/\*[\s\S]*?\*\/|--[^\n]*|\$\d+|\b0x[0-9a-f]+\b|(?<![\w$.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?\b|\s{2,}|[^\S ]/gi;
/** Every whitespace run as one space (a lone space already is one). */
const RUNS = /\s{2,}|[^\S ]/g;
const LIST = /\(\s*\?(?:\s*,\s*\?)+\s*\)/g;
const ROWS = /(\(\?\))(?:\s*,\s*\(\?\))+/g;
const MAX_LENGTH = 2000;

export function sqlFingerprint(sql: string): string {
  const text = sql.length > 20_000 ? sql.slice(0, 20_000) : sql;
  let out = text.replace(TOKENS, (m) => {
    const c = m.charCodeAt(0);
    if (c === 0x2f /* / */ || (c === 0x2d /* - */ && m.charCodeAt(1) === 0x2d)) return ' ';
    if (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d) return ' ';
    return '?';
  });
  out = out.replace(LIST, '(?)').replace(ROWS, '$1').replace(RUNS, ' ').trim();
  return out.length > MAX_LENGTH ? out.slice(0, MAX_LENGTH) : out;
}
