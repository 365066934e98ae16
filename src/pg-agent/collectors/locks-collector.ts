import type { MonitorConnection } from '../db/monitor-connection.js';
import { correlationOf } from '../../shared/protocol/correlation-forms.js';
import type { CollectorResult } from './collector.js';

export interface LockSession {
  pid: number;
  /** `pg:<pid>:<backend_start unix s>`: names one backend across samples (a pid alone is reused). */
  session_key: string;
  application_name: string;
  usename: string | null;
  datname: string | null;
  state: string | null;
  query: string;
  xact_start: string | null;
  query_start: string | null;
  backend_start: string | null;
  wait_event_type: string | null;
  wait_event: string | null;
  correlation_id?: string;
}

export interface LockWait extends LockSession {
  locktype: string;
  mode: string;
  /** schema.table for a relation lock in this database, else null (`database` then says where). */
  relation: string | null;
  database: string | null;
  transactionid: string | null;
  waiting_ms: number | null;
  blocked_by: LockSession[];
}

export interface Blocker extends LockSession {
  blocked_pids: number[];
  blocked_correlation_ids: string[];
  /** Not waiting itself: the head of its chain. */
  root: boolean;
}

export interface LockTree {
  waits: LockWait[];
  blockers: Blocker[];
  count: number;
}

interface RawWait {
  pid: number;
  locktype: string;
  mode: string;
  relation: string | null;
  database: string | null;
  transactionid: string | null;
  waiting_ms: number | null;
  blocked_by: number[];
}
type RawSession = Omit<LockSession, 'session_key' | 'correlation_id'> & { backend_start_s: number | null };

/** The blocking tree in one statement; waitstart exists from PostgreSQL 14 (13: time in state). */
function sql(serverVersionNum: number): string {
  const waitStart = serverVersionNum >= 140000 ? 'coalesce(l.waitstart, a.state_change)' : 'a.state_change';
  return `
WITH waits AS (
  SELECT l.pid, l.locktype, l.mode, l.relation, l.database, l.transactionid,
         (extract(epoch FROM clock_timestamp() - ${waitStart}) * 1000)::float8 AS waiting_ms,
         pg_blocking_pids(l.pid) AS blocked_by
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
   WHERE NOT l.granted AND l.pid <> pg_backend_pid()
), pids AS (SELECT pid FROM waits UNION SELECT unnest(blocked_by) FROM waits)
SELECT
  (SELECT coalesce(json_agg(json_build_object(
      'pid', w.pid, 'locktype', w.locktype, 'mode', w.mode,
      'relation', CASE WHEN w.relation IS NOT NULL AND d.datname = current_database() THEN w.relation::regclass::text END,
      'database', d.datname, 'transactionid', w.transactionid::text,
      'waiting_ms', round(w.waiting_ms::numeric, 1), 'blocked_by', w.blocked_by)), '[]')
     FROM waits w LEFT JOIN pg_database d ON d.oid = w.database) AS waits,
  (SELECT coalesce(json_agg(json_build_object(
      'pid', a.pid, 'application_name', a.application_name, 'usename', a.usename, 'datname', a.datname,
      'state', a.state, 'query', left(a.query, 2000), 'xact_start', a.xact_start, 'query_start', a.query_start,
      'backend_start', a.backend_start, 'backend_start_s', extract(epoch FROM a.backend_start)::bigint,
      'wait_event_type', a.wait_event_type, 'wait_event', a.wait_event)), '[]')
     FROM pg_stat_activity a WHERE a.pid IN (SELECT pid FROM pids)) AS sessions`;
}

/** pg_locks joined into who blocks whom, since when, on which relation. */
export async function collectLocks(db: MonitorConnection, serverVersionNum: number): Promise<CollectorResult<LockTree>> {
  const r = await db.query<{ waits: RawWait[]; sessions: RawSession[] }>('locks', sql(serverVersionNum));
  if (r.kind !== 'ok') return r;
  const row = r.rows[0];
  return { kind: 'ok', value: buildTree(row?.waits ?? [], row?.sessions ?? []), ms: r.ms };
}

export function buildTree(rawWaits: readonly RawWait[], rawSessions: readonly RawSession[]): LockTree {
  const sessions = new Map<number, LockSession>();
  for (const s of rawSessions) {
    const { backend_start_s, ...rest } = s;
    const session: LockSession = { ...rest, application_name: s.application_name ?? '', query: s.query ?? '', session_key: `pg:${s.pid}:${backend_start_s ?? 0}` };
    const id = correlationOf(session.application_name, session.query);
    if (id) session.correlation_id = id;
    sessions.set(s.pid, session);
  }
  const unknown = (pid: number): LockSession => ({ pid, session_key: `pg:${pid}:0`, application_name: '', usename: null, datname: null, state: null, query: '', xact_start: null, query_start: null, backend_start: null, wait_event_type: null, wait_event: null });
  const waiting = new Set(rawWaits.map((w) => w.pid));
  const blockers = new Map<number, Blocker>();
  const waits: LockWait[] = rawWaits.map((w) => {
    const blockedBy = w.blocked_by.map((pid) => sessions.get(pid) ?? unknown(pid));
    const me = sessions.get(w.pid) ?? unknown(w.pid);
    for (const b of blockedBy) {
      const entry = blockers.get(b.pid) ?? { ...b, blocked_pids: [], blocked_correlation_ids: [], root: !waiting.has(b.pid) };
      if (!entry.blocked_pids.includes(w.pid)) entry.blocked_pids.push(w.pid);
      if (me.correlation_id && !entry.blocked_correlation_ids.includes(me.correlation_id)) entry.blocked_correlation_ids.push(me.correlation_id);
      blockers.set(b.pid, entry);
    }
    return { ...me, locktype: w.locktype, mode: w.mode, relation: w.relation, database: w.database, transactionid: w.transactionid, waiting_ms: w.waiting_ms === null ? null : Number(w.waiting_ms), blocked_by: blockedBy };
  });
  return { waits, blockers: [...blockers.values()].sort((a, b) => b.blocked_pids.length - a.blocked_pids.length), count: waits.length };
}
