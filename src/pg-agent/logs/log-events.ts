import { correlationOf } from '../../shared/protocol/correlation-forms.js';
import type { LogEntry } from './log-entry.js';

export type LogEventKind = 'slow_statement' | 'lock_wait' | 'deadlock' | 'error';

export interface LogEvent {
  kind: LogEventKind;
  timestamp: string | null;
  pid: number | null;
  severity: string;
  sqlstate: string | null;
  message: string;
  detail: string | null;
  statement: string | null;
  application_name: string | null;
  user: string | null;
  database: string | null;
  correlation_id?: string;
  duration_ms?: number;
  /** lock_wait: the sessions holding the lock. */
  holder_pids?: number[];
  /** deadlock: each process in the cycle with the statement it was running. */
  processes?: { pid: number; statement: string; waits_for: string | null; blocked_by: number | null }[];
}

const DURATION = /^duration: ([\d.]+) ms {2}(?:statement|(?:execute|parse|bind) [^:]*): ([\s\S]*)$/;
const STILL_WAITING = /^process (\d+) still waiting for .* after ([\d.]+) ms/;
const HOLDERS = /Process(?:es)? holding the lock: ([\d, ]+)\./;
const DEADLOCK_WAIT = /^Process (\d+) waits for (.+?); blocked by process (\d+)\.$/;
const DEADLOCK_STATEMENT = /^Process (\d+): ([\s\S]*)$/;

/** Longest text kept per field: a multi-megabyte statement in the log must not become a multi-megabyte record. */
const MAX_TEXT = 8_000;
const cut = (s: string | null): string | null => (s !== null && s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s);

/** The log messages that matter for a slow request; null for the rest (checkpoints, connections, ...). */
export function classify(e: LogEntry): LogEvent | null {
  const base = (kind: LogEventKind, statement: string | null): LogEvent => {
    const ev: LogEvent = { kind, timestamp: e.timestamp, pid: e.pid, severity: e.severity, sqlstate: e.sqlstate, message: cut(e.message) ?? '', detail: cut(e.detail), statement: cut(statement), application_name: e.application_name, user: e.user, database: e.database };
    const id = correlationOf(e.application_name, statement);
    if (id) ev.correlation_id = id;
    return ev;
  };
  if (e.severity === 'LOG') {
    const d = DURATION.exec(e.message);
    if (d) {
      const ev = base('slow_statement', d[2] ?? null);
      ev.message = `duration: ${d[1]} ms`;
      ev.duration_ms = Number(d[1]);
      return ev;
    }
    const w = STILL_WAITING.exec(e.message);
    if (w) {
      const ev = base('lock_wait', e.statement);
      ev.duration_ms = Number(w[2]);
      const holders = e.detail ? HOLDERS.exec(e.detail)?.[1] : undefined;
      if (holders) ev.holder_pids = holders.split(',').map((p) => Number(p.trim())).filter((p) => p > 0);
      return ev;
    }
    return null;
  }
  if (e.sqlstate === '40P01' || (e.severity === 'ERROR' && e.message === 'deadlock detected')) {
    const ev = base('deadlock', e.statement);
    ev.processes = deadlockProcesses(e.detail ?? '');
    return ev;
  }
  if (e.severity === 'ERROR' || e.severity === 'FATAL' || e.severity === 'PANIC') return base('error', e.statement);
  return null;
}

/** "Process 1 waits for ShareLock on transaction 7; blocked by process 2." ... "Process 1: UPDATE ..." */
function deadlockProcesses(detail: string): NonNullable<LogEvent['processes']> {
  const byPid = new Map<number, { pid: number; statement: string; waits_for: string | null; blocked_by: number | null }>();
  const get = (pid: number) => {
    let p = byPid.get(pid);
    if (!p) byPid.set(pid, (p = { pid, statement: '', waits_for: null, blocked_by: null }));
    return p;
  };
  let last: { statement: string } | null = null;
  for (const line of detail.split('\n')) {
    const w = DEADLOCK_WAIT.exec(line);
    if (w) {
      const p = get(Number(w[1]));
      p.waits_for = w[2] ?? null;
      p.blocked_by = Number(w[3]);
      last = null;
      continue;
    }
    const s = DEADLOCK_STATEMENT.exec(line);
    if (s) {
      last = get(Number(s[1]));
      last.statement = s[2] ?? '';
    } else if (last) last.statement += `\n${line}`; // a multi-line statement
  }
  return [...byPid.values()].map((p) => ({ ...p, statement: cut(p.statement) ?? '' }));
}
