import { emptyEntry, type LogEntry, type LogParser } from './log-entry.js';

// "<log_line_prefix>SEVERITY:  text". The prefix is whatever the server is configured with, so
// only its usual parts are read: a leading timestamp, `[pid]` and `app=`/`user=`/`db=` pairs.
const LINE = /^(.*?)\b(LOG|ERROR|FATAL|PANIC|WARNING|NOTICE|INFO|DEBUG[1-5]?|DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION): {2}(.*)$/;
const TIMESTAMP = /^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?: ?[A-Z]{2,5}|[+-]\d\d(?::?\d\d)?)?)/;
const PID = /\[(\d+)\]/;
const PAIR = (name: string) => new RegExp(`\\b${name}=([^,\\s\\]]+)`);
const MAX_LINE = 1024 * 1024;
const ATTACHED = new Set(['DETAIL', 'HINT', 'CONTEXT', 'STATEMENT', 'QUERY', 'LOCATION']);

/**
 * The plain stderr format (also what logging_collector writes to *.log). A message spans its
 * first line, tab-indented continuation lines, and the DETAIL/HINT/CONTEXT/STATEMENT lines the
 * server writes right after it in the same write.
 */
export function createStderrParser(): LogParser {
  let partial = '';
  let current: LogEntry | null = null;
  let field: 'message' | 'detail' | 'hint' | 'context' | 'statement' | null = null;

  function line(text: string, out: LogEntry[]): void {
    if (text.startsWith('\t') && current && field) {
      if ((current[field]?.length ?? 0) < MAX_LINE) current[field] = `${current[field] ?? ''}\n${text.slice(1)}`;
      return;
    }
    const m = LINE.exec(text);
    if (!m) {
      if (current && field) current[field] = `${current[field] ?? ''}\n${text}`; // unprefixed continuation
      return;
    }
    const prefix = m[1] ?? '';
    const severity = m[2] ?? 'LOG';
    const body = m[3] ?? '';
    if (ATTACHED.has(severity) && current) {
      const key = severity === 'DETAIL' ? 'detail' : severity === 'HINT' ? 'hint' : severity === 'CONTEXT' ? 'context' : severity === 'LOCATION' ? null : 'statement';
      if (key === null) {
        field = null;
        return;
      }
      if (key === 'statement' && severity === 'QUERY' && current.statement) return;
      current[key] = body;
      field = key;
      return;
    }
    if (current) out.push(current);
    current = emptyEntry();
    current.severity = severity;
    current.message = body;
    current.timestamp = TIMESTAMP.exec(prefix)?.[1] ?? null;
    const pid = PID.exec(prefix)?.[1];
    current.pid = pid ? Number(pid) : null;
    current.application_name = PAIR('app').exec(prefix)?.[1] ?? null;
    current.user = PAIR('user').exec(prefix)?.[1] ?? null;
    current.database = PAIR('db').exec(prefix)?.[1] ?? null;
    field = 'message';
  }

  return {
    push(chunk) {
      const out: LogEntry[] = [];
      const text = partial + chunk;
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      if (partial.length > MAX_LINE) partial = partial.slice(0, MAX_LINE); // the rest of an endless line is dropped
      for (const l of lines) line(l.endsWith('\r') ? l.slice(0, -1) : l, out);
      return out;
    },
    idle() {
      const out: LogEntry[] = [];
      if (current) out.push(current);
      current = null;
      field = null;
      return out;
    },
    end() {
      const out: LogEntry[] = [];
      if (partial !== '') {
        line(partial, out);
        partial = '';
      }
      if (current) out.push(current);
      current = null;
      field = null;
      return out;
    },
  };
}
