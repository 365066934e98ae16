import { emptyEntry, type LogEntry, type LogParser } from './log-entry.js';

// csvlog columns (PostgreSQL 13-17 add backend_type, leader_pid, query_id at the end; read by position).
/** A field or line past this is cut (a file that is not a log, or a giant statement): memory stays bounded. */
const MAX_CHARS = 1024 * 1024;

const CSV = { log_time: 0, user_name: 1, database_name: 2, process_id: 3, error_severity: 11, sql_state_code: 12, message: 13, detail: 14, hint: 15, internal_query: 16, context: 18, query: 19, application_name: 22 } as const;

/** csvlog: RFC 4180 records, quoted fields may hold newlines, so records are split by a small state machine. */
export function createCsvParser(): LogParser {
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let quotePending = false; // saw a quote inside a quoted field: either "" or the field's end

  function record(out: LogEntry[]): void {
    fields.push(field);
    field = '';
    if (fields.length > CSV.message) out.push(fromCsv(fields));
    fields = [];
  }

  return {
    push(chunk) {
      const out: LogEntry[] = [];
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i];
        if (quotePending) {
          quotePending = false;
          if (c === '"') {
            field += '"';
            continue;
          }
          quoted = false;
        }
        if (quoted) {
          if (c === '"') quotePending = true;
          else if (field.length < MAX_CHARS) field += c;
        } else if (c === '"') quoted = true;
        else if (c === ',') {
          fields.push(field);
          field = '';
        } else if (c === '\n') record(out);
        else if (c !== '\r' && field.length < MAX_CHARS) field += c;
      }
      return out;
    },
    idle: () => [],
    end() {
      const out: LogEntry[] = [];
      if (quotePending) {
        quotePending = false;
        quoted = false;
      }
      if (!quoted && (fields.length > 0 || field !== '')) record(out);
      return out;
    },
  };
}

function fromCsv(f: string[]): LogEntry {
  const get = (i: number) => (f[i] === undefined || f[i] === '' ? null : (f[i] as string));
  const e = emptyEntry();
  e.timestamp = get(CSV.log_time);
  e.user = get(CSV.user_name);
  e.database = get(CSV.database_name);
  e.pid = get(CSV.process_id) === null ? null : Number(get(CSV.process_id));
  e.severity = get(CSV.error_severity) ?? 'LOG';
  e.sqlstate = get(CSV.sql_state_code);
  e.message = get(CSV.message) ?? '';
  e.detail = get(CSV.detail);
  e.hint = get(CSV.hint);
  e.context = get(CSV.context);
  e.statement = get(CSV.query) ?? get(CSV.internal_query);
  e.application_name = get(CSV.application_name);
  return e;
}

/** jsonlog (PostgreSQL 15+): one JSON object per line. A line that does not parse is skipped (and counted by the caller). */
export function createJsonParser(onBadLine: () => void = () => undefined): LogParser {
  let partial = '';
  const parse = (line: string, out: LogEntry[]) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      onBadLine();
      return;
    }
    if (typeof v !== 'object' || v === null) return onBadLine();
    const o = v as Record<string, unknown>;
    const s = (k: string) => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : null);
    const e = emptyEntry();
    e.timestamp = s('timestamp');
    e.user = s('user');
    e.database = s('dbname');
    e.pid = typeof o.pid === 'number' ? o.pid : null;
    e.severity = s('error_severity') ?? 'LOG';
    e.sqlstate = s('state_code');
    e.message = s('message') ?? '';
    e.detail = s('detail');
    e.hint = s('hint');
    e.context = s('context');
    e.statement = s('statement') ?? s('internal_query');
    e.application_name = s('application_name');
    out.push(e);
  };
  return {
    push(chunk) {
      const out: LogEntry[] = [];
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      if (partial.length > MAX_CHARS) {
        onBadLine(); // no newline for a megabyte: not a jsonlog line
        partial = '';
      }
      for (const l of lines) parse(l, out);
      return out;
    },
    idle: () => [],
    end() {
      const out: LogEntry[] = [];
      if (partial !== '') parse(partial, out);
      partial = '';
      return out;
    },
  };
}
