import type { BlockedBySession, DbLockWait, DbLogEvent, DbSessionPage, DbSessionRef, DbWaitSample, RequestDatabase } from '../../shared/protocol/db-api.js';
import { sessionCorrelationId } from '../extract/correlation-ids.js';
import { isObj, num, str, type Obj } from '../extract/fields.js';

/** A stored Postgres-agent record, parsed. */
export interface ActivityItem {
  source: string;
  timestamp: number;
  record: unknown;
}

const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
const dataOf = (a: ActivityItem): Obj => (isObj(a.record) && isObj(a.record.data) ? a.record.data : {});
const pids = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : []);

export function sessionRef(s: Obj): DbSessionRef {
  const pid = num(s.pid) ?? 0;
  return {
    session_key: str(s.session_key) ?? `pg:${pid}:0`,
    pid,
    application_name: str(s.application_name) ?? '',
    correlation_id: sessionCorrelationId(s),
    state: str(s.state),
    query: (str(s.query) ?? '').slice(0, 2000),
  };
}

/**
 * What the Postgres-agent records linked to one request say about it (issue 13): the samples in
 * which its session waited, the locks it waited for and who held them, the sessions it blocked,
 * and its server-log events. Records from agents that predate these fields give what they have.
 */
export function requestDatabase(correlationId: string, items: readonly ActivityItem[]): RequestDatabase {
  const waits: DbWaitSample[] = [];
  const locks = new Map<string, DbLockWait>();
  const blockers = new Map<string, DbSessionRef>();
  const blocked = new Map<string, DbSessionRef>();
  const logEvents: DbLogEvent[] = [];
  for (const a of items) {
    const data = dataOf(a);
    if (a.source === 'pg_stat_activity') {
      for (const s of list(data.sessions)) {
        if (sessionCorrelationId(s) !== correlationId) continue;
        const blockedBy = pids(s.blocked_by);
        if (str(s.wait_event_type) === null && blockedBy.length === 0) continue;
        waits.push({ t: a.timestamp, pid: num(s.pid) ?? 0, state: str(s.state), wait_event_type: str(s.wait_event_type), wait_event: str(s.wait_event), waited_ms: num(s.state_ms), blocked_by: blockedBy, query: (str(s.query) ?? '').slice(0, 2000) });
      }
    } else if (a.source === 'pg_locks') {
      for (const w of list(data.waits)) {
        const waiter = sessionRef(w);
        const holders = list(w.blocked_by).map(sessionRef);
        if (waiter.correlation_id === correlationId) {
          const key = [str(w.locktype), str(w.mode), str(w.relation), str(w.transactionid), ...holders.map((h) => h.session_key)].join('|');
          const waited = num(w.waiting_ms);
          const seen = locks.get(key);
          if (seen) {
            seen.last_seen = a.timestamp;
            if (waited !== null && (seen.waited_ms === null || waited > seen.waited_ms)) seen.waited_ms = waited;
          } else {
            locks.set(key, { first_seen: a.timestamp, last_seen: a.timestamp, locktype: str(w.locktype) ?? '', mode: str(w.mode) ?? '', relation: str(w.relation), transactionid: str(w.transactionid), waited_ms: waited, held_by: holders });
          }
          for (const h of holders) blockers.set(h.session_key, h);
        }
        if (holders.some((h) => h.correlation_id === correlationId)) blocked.set(waiter.session_key, waiter);
      }
    } else if (a.source === 'pg_log') {
      for (const e of list(data.events)) {
        if (str(e.correlation_id) !== correlationId && sessionCorrelationId({ application_name: e.application_name, query: e.statement }) !== correlationId) continue;
        logEvents.push({ t: a.timestamp, kind: str(e.kind) ?? 'log', message: str(e.message) ?? '', statement: str(e.statement), duration_ms: num(e.duration_ms) });
      }
    }
  }
  return { waits, locks: [...locks.values()], blockers: [...blockers.values()], blocked: [...blocked.values()], log_events: logEvents };
}

/** A blocking session's page: every session (and PHP request) it blocked, from the pg_locks records naming it. */
export function sessionPage(sessionKey: string, items: readonly ActivityItem[]): DbSessionPage | null {
  let session: DbSessionRef | null = null;
  let first: number | null = null;
  let last: number | null = null;
  const blocked = new Map<string, BlockedBySession>();
  for (const a of items) {
    if (a.source !== 'pg_locks') continue;
    for (const w of list(dataOf(a).waits)) {
      const holder = list(w.blocked_by).map(sessionRef).find((h) => h.session_key === sessionKey);
      if (!holder) continue;
      session ??= holder;
      first ??= a.timestamp;
      last = a.timestamp;
      const waiter = sessionRef(w);
      const key = waiter.correlation_id ?? waiter.session_key;
      const waited = num(w.waiting_ms);
      const seen = blocked.get(key);
      if (seen) {
        seen.last_seen = a.timestamp;
        if (waited !== null && (seen.waited_ms === null || waited > seen.waited_ms)) seen.waited_ms = waited;
      } else {
        blocked.set(key, { waiter, first_seen: a.timestamp, last_seen: a.timestamp, waited_ms: waited, locktype: str(w.locktype) ?? '', mode: str(w.mode) ?? '', relation: str(w.relation) });
      }
    }
  }
  if (!session) return null;
  const rows = [...blocked.values()];
  return { session, first_seen: first, last_seen: last, blocked: rows, total: rows.length };
}
