import { hostname } from 'node:os';

export type AgentSource = 'pg_stat_activity' | 'pg_stat_statements' | 'pg_locks' | 'pg_log' | 'system_metrics';

/** One record as existing Bitville Postgres agents send it (DESIGN 12, test/fixtures/postgres-agent-activity.json). */
export interface AgentRecord {
  /** The record's own key, unique per agent run: the listener de-duplicates resends on it. */
  correlation_id: string;
  project: string;
  /** Unix seconds. */
  timestamp: number;
  source: AgentSource;
  host: string;
  data: Record<string, unknown>;
}

export type RecordFactory = (source: AgentSource, data: Record<string, unknown>, timestampMs?: number) => AgentRecord;

/**
 * Records carry a key `pg-<host>-<start>-<seq>` (characters a correlation id may use, and never
 * the form of a request's UUID), so a record resent after an outage is a duplicate, not a copy.
 */
export function createRecordFactory(project: string, now: () => number = Date.now): RecordFactory {
  const host = hostname();
  const run = `${host.replace(/[^0-9A-Za-z._-]/g, '_').slice(0, 40)}-${now().toString(36)}`;
  let seq = 0;
  return (source, data, timestampMs) => ({
    correlation_id: `pg-${run}-${(seq++).toString(36)}`,
    project,
    timestamp: (timestampMs ?? now()) / 1000,
    source,
    host,
    data,
  });
}
