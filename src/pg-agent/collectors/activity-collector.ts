import type { MonitorConnection } from '../db/monitor-connection.js';
import { correlationOf } from '../../shared/protocol/correlation-forms.js';
import type { CollectorResult } from './collector.js';

export interface ActivitySession {
  pid: number;
  usename: string | null;
  datname: string | null;
  application_name: string;
  client_addr: string | null;
  client_port: number | null;
  backend_start: string | null;
  xact_start: string | null;
  query_start: string | null;
  state_change: string | null;
  wait_event_type: string | null;
  wait_event: string | null;
  state: string | null;
  query: string;
  backend_type: string | null;
  /** pg_blocking_pids(pid): the sessions holding (or queued before it for) the lock it waits for. */
  blocked_by: number[];
  /** Time in the current state (for a waiting session: how long it has waited so far). */
  state_ms: number | null;
  correlation_id?: string;
}

export interface ActivitySample {
  sessions: ActivitySession[];
  /** Every backend by state, idle ones included (connection counts). */
  by_state: Record<string, number>;
  /** Active sessions by wait_event_type; "CPU" when an active session waits for nothing. */
  by_wait_event_type: Record<string, number>;
  count: number;
  with_correlation: number;
  blocked: number;
  max_connections: number | null;
}

const MAX_QUERY_CHARS = 2_000;

// pg_blocking_pids() takes the lock manager's partition locks, so it runs only for sessions that
// wait on a heavyweight lock (the only ones it can return anything for). Idle backends are
// counted but not listed. The agent's own session is left out.
const SQL = `
SELECT pid, usename, datname, application_name, host(client_addr) AS client_addr, client_port,
       backend_start, xact_start, query_start, state_change, wait_event_type, wait_event, state,
       left(query, ${MAX_QUERY_CHARS}) AS query, backend_type,
       CASE WHEN wait_event_type = 'Lock' THEN pg_blocking_pids(pid) ELSE '{}'::int[] END AS blocked_by,
       (extract(epoch FROM clock_timestamp() - state_change) * 1000)::float8 AS state_ms,
       current_setting('max_connections')::int AS max_connections
  FROM pg_stat_activity
 WHERE pid <> pg_backend_pid()`;

interface Row extends Omit<ActivitySession, 'backend_start' | 'xact_start' | 'query_start' | 'state_change' | 'correlation_id'> {
  backend_start: Date | null;
  xact_start: Date | null;
  query_start: Date | null;
  state_change: Date | null;
  max_connections: number;
}

/** One pg_stat_activity sample: the sessions doing something, with who blocks them. */
export async function collectActivity(db: MonitorConnection): Promise<CollectorResult<ActivitySample>> {
  const r = await db.query<Row>('activity', SQL);
  if (r.kind !== 'ok') return r;
  const sample: ActivitySample = { sessions: [], by_state: {}, by_wait_event_type: {}, count: 0, with_correlation: 0, blocked: 0, max_connections: r.rows[0]?.max_connections ?? null };
  for (const row of r.rows) {
    const state = row.state ?? (row.backend_type === 'client backend' ? 'unknown' : 'background');
    sample.by_state[state] = (sample.by_state[state] ?? 0) + 1;
    if (row.backend_type !== 'client backend' || state === 'idle') continue;
    if (state === 'active') {
      const type = row.wait_event_type ?? 'CPU';
      sample.by_wait_event_type[type] = (sample.by_wait_event_type[type] ?? 0) + 1;
    }
    const { max_connections: _m, ...rest } = row;
    const session: ActivitySession = {
      ...rest,
      backend_start: iso(row.backend_start),
      xact_start: iso(row.xact_start),
      query_start: iso(row.query_start),
      state_change: iso(row.state_change),
      query: row.query ?? '',
      application_name: row.application_name ?? '',
      blocked_by: row.blocked_by ?? [],
      state_ms: row.state_ms === null ? null : Math.round(row.state_ms * 10) / 10,
    };
    const id = correlationOf(session.application_name, session.query);
    if (id) {
      session.correlation_id = id;
      sample.with_correlation++;
    }
    if (session.blocked_by.length > 0) sample.blocked++;
    sample.sessions.push(session);
  }
  sample.count = sample.sessions.length;
  return { kind: 'ok', value: sample, ms: r.ms };
}

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}
