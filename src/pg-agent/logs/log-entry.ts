/** One server log message with its attached parts, whatever the log format. */
export interface LogEntry {
  timestamp: string | null;
  pid: number | null;
  /** LOG, ERROR, FATAL, PANIC, WARNING, ... */
  severity: string;
  sqlstate: string | null;
  message: string;
  detail: string | null;
  hint: string | null;
  context: string | null;
  /** The statement the message is about (STATEMENT: line, csvlog `query`, jsonlog `statement`). */
  statement: string | null;
  application_name: string | null;
  user: string | null;
  database: string | null;
}

export type LogFormat = 'stderr' | 'csvlog' | 'jsonlog';

export interface LogParser {
  /** Feeds the next piece of the file; returns the entries now complete. */
  push(chunk: string): LogEntry[];
  /** The file went quiet: a message still open has had all its parts (the server writes each in one go). */
  idle(): LogEntry[];
  /** The file is being left (rotated, truncated, agent stopping): everything pending. */
  end(): LogEntry[];
}

export function emptyEntry(): LogEntry {
  return { timestamp: null, pid: null, severity: 'LOG', sqlstate: null, message: '', detail: null, hint: null, context: null, statement: null, application_name: null, user: null, database: null };
}

export function formatOfFile(name: string): LogFormat {
  if (name.endsWith('.csv')) return 'csvlog';
  if (name.endsWith('.json')) return 'jsonlog';
  return 'stderr';
}
