/**
 * Answer shapes of the listener's database-correlation read API (DESIGN 12; docs/listener.md):
 * the `database` part of a request's detail, a blocking session's page and the overview's
 * database series. Types only (the dashboard's browser build imports this file too).
 */

/** The PHP request behind a database session, when the store has it. */
export interface LinkedRequest {
  correlation_id: string;
  method: string;
  url: string;
  duration_ms: number;
  timestamp: number;
}

export interface DbSessionRef {
  /** `pg:<pid>:<backend_start unix s>`; the key of GET /api/v1/db/sessions/{key}. */
  session_key: string;
  pid: number;
  application_name: string;
  /** The PHP request the session belonged to (application_name or SQL comment), if any. */
  correlation_id: string | null;
  state: string | null;
  query: string;
  request?: LinkedRequest | null;
}

/** One pg_stat_activity sample in which the request's session was waiting. */
export interface DbWaitSample {
  t: number;
  pid: number;
  state: string | null;
  wait_event_type: string | null;
  wait_event: string | null;
  /** Time in the current state at the sample (how long it had waited so far). */
  waited_ms: number | null;
  blocked_by: number[];
  query: string;
}

/** A lock the request waited for, merged over the samples that saw it. */
export interface DbLockWait {
  first_seen: number;
  last_seen: number;
  locktype: string;
  mode: string;
  relation: string | null;
  transactionid: string | null;
  /** Longest wait seen. */
  waited_ms: number | null;
  held_by: DbSessionRef[];
}

export interface DbLogEvent {
  t: number;
  kind: string;
  message: string;
  statement: string | null;
  duration_ms: number | null;
}

/** GET /api/v1/requests/{id} → `database`. */
export interface RequestDatabase {
  waits: DbWaitSample[];
  locks: DbLockWait[];
  /** Sessions that held a lock this request waited for (deduplicated, with their own request). */
  blockers: DbSessionRef[];
  /** Requests this request's session blocked. */
  blocked: DbSessionRef[];
  log_events: DbLogEvent[];
}

export interface BlockedBySession {
  waiter: DbSessionRef;
  first_seen: number;
  last_seen: number;
  waited_ms: number | null;
  locktype: string;
  mode: string;
  relation: string | null;
}

/** GET /api/v1/db/sessions/{key}: a blocking session and everything it blocked. */
export interface DbSessionPage {
  session: DbSessionRef;
  first_seen: number | null;
  last_seen: number | null;
  blocked: BlockedBySession[];
  total: number;
}

export interface DbOverviewPoint {
  t: number;
  /** Samples in the step. */
  samples: number;
  /** Average active sessions per wait_event_type ("CPU" = active, not waiting). */
  by_wait_event_type: Record<string, number>;
}

export interface DbTopBlocker extends DbSessionRef {
  blocked_sessions: number;
  blocked_requests: number;
  max_wait_ms: number | null;
  first_seen: number;
  last_seen: number;
}

/** GET /api/v1/db/overview */
export interface DbOverview {
  from: number;
  to: number;
  step: number;
  series: DbOverviewPoint[];
  blockers: DbTopBlocker[];
  /** True when the window held more records than were read (the newest were left out). */
  truncated: boolean;
}
