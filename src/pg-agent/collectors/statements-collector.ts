import type { MonitorConnection } from '../db/monitor-connection.js';
import { withoutLeadingComments } from '../../shared/protocol/correlation-forms.js';
import type { CollectorResult } from './collector.js';

/** Counters kept per statement; the view's column for each differs across PostgreSQL 13-17. */
const COUNTERS = {
  calls: ['calls'],
  total_exec_time_ms: ['total_exec_time', 'total_time'], // total_time before 13
  total_plan_time_ms: ['total_plan_time'],
  rows: ['rows'],
  shared_blks_hit: ['shared_blks_hit'],
  shared_blks_read: ['shared_blks_read'],
  shared_blks_dirtied: ['shared_blks_dirtied'],
  shared_blks_written: ['shared_blks_written'],
  temp_blks_read: ['temp_blks_read'],
  temp_blks_written: ['temp_blks_written'],
  blk_read_time_ms: ['shared_blk_read_time', 'blk_read_time'], // renamed in 17
  blk_write_time_ms: ['shared_blk_write_time', 'blk_write_time'],
} as const;
type Counter = keyof typeof COUNTERS;

export interface StatementDelta extends Record<Counter, number> {
  queryid: string;
  userid: number;
  dbid: number;
  toplevel: boolean;
  query: string;
  mean_exec_time_ms: number;
}

export interface StatementsDelta {
  interval_s: number;
  statements: StatementDelta[];
  /** Statements with calls in the interval, before the top-N cut. */
  count: number;
  /** The column names this server uses (for operators checking a version mismatch). */
  columns: Partial<Record<Counter, string>>;
}

export type StatementsOutcome = CollectorResult<StatementsDelta | null> | { kind: 'missing'; message: string };

export interface StatementsCollector {
  /** First call (and the first after a stats reset of everything) is a baseline: value null. */
  collect(db: MonitorConnection): Promise<StatementsOutcome>;
  /** Forget the baseline and the column map (after a reconnect: the server may have changed). */
  reset(): void;
}

const TOP = 500;
type Snapshot = Map<string, Record<Counter, number> & { query: string; queryid: string; userid: number; dbid: number; toplevel: boolean }>;

/** pg_stat_statements as deltas per interval: the counters' growth since the previous sample. */
export function createStatementsCollector(now: () => number = Date.now): StatementsCollector {
  let columns: Partial<Record<Counter, string>> | null = null;
  let hasToplevel = false;
  let previous: { at: number; snap: Snapshot } | null = null;

  async function detectColumns(db: MonitorConnection): Promise<StatementsOutcome | null> {
    const r = await db.query<{ attname: string }>('statements_columns', "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass('pg_stat_statements') AND attnum > 0 AND NOT attisdropped");
    if (r.kind !== 'ok') return r;
    if (r.rows.length === 0) return { kind: 'missing', message: 'the pg_stat_statements view does not exist in this database: CREATE EXTENSION pg_stat_statements (and shared_preload_libraries = pg_stat_statements)' };
    const names = new Set(r.rows.map((x) => x.attname));
    columns = {};
    for (const [counter, candidates] of Object.entries(COUNTERS) as [Counter, readonly string[]][]) {
      const found = candidates.find((c) => names.has(c));
      if (found) columns[counter] = found;
    }
    hasToplevel = names.has('toplevel');
    return null;
  }

  return {
    reset() {
      columns = null;
      previous = null;
    },
    async collect(db) {
      if (!columns) {
        const problem = await detectColumns(db);
        if (problem) return problem;
      }
      const cols = columns ?? {};
      const select = Object.entries(cols).map(([counter, col]) => `${col}::float8 AS ${counter}`).join(', ');
      const sql = `SELECT queryid::text AS queryid, userid::int8 AS userid, dbid::int8 AS dbid, ${hasToplevel ? 'toplevel' : 'true AS toplevel'}, left(query, 4000) AS query, ${select} FROM pg_stat_statements`;
      const r = await db.query<Record<string, unknown>>('statements', sql);
      if (r.kind === 'error' && r.code === '55000') return { kind: 'missing', message: `pg_stat_statements is installed but not loaded (add it to shared_preload_libraries and restart): ${r.message}` };
      if (r.kind === 'error' && r.code === '42P01') {
        columns = null;
        return { kind: 'missing', message: r.message };
      }
      if (r.kind !== 'ok') return r;
      const at = now();
      const snap: Snapshot = new Map();
      for (const row of r.rows) {
        const key = `${String(row.userid)}:${String(row.dbid)}:${String(row.queryid)}:${String(row.toplevel)}`;
        const counters = {} as Record<Counter, number>;
        for (const c of Object.keys(COUNTERS) as Counter[]) counters[c] = Number(row[c] ?? 0);
        snap.set(key, { ...counters, query: String(row.query ?? ''), queryid: String(row.queryid), userid: Number(row.userid), dbid: Number(row.dbid), toplevel: row.toplevel !== false });
      }
      const prev = previous;
      previous = { at, snap };
      if (!prev) return { kind: 'ok', value: null, ms: r.ms };
      const deltas: StatementDelta[] = [];
      for (const [key, cur] of snap) {
        const before = prev.snap.get(key);
        // A counter that went down was reset (pg_stat_statements_reset, or evicted and re-added): count from zero.
        const reset = before !== undefined && cur.calls < before.calls;
        const delta = {} as Record<Counter, number>;
        for (const c of Object.keys(COUNTERS) as Counter[]) delta[c] = round(before && !reset ? cur[c] - before[c] : cur[c]);
        if (delta.calls <= 0) continue;
        deltas.push({ ...delta, queryid: cur.queryid, userid: cur.userid, dbid: cur.dbid, toplevel: cur.toplevel, query: withoutLeadingComments(cur.query), mean_exec_time_ms: round(delta.total_exec_time_ms / delta.calls) });
      }
      deltas.sort((a, b) => b.total_exec_time_ms - a.total_exec_time_ms);
      const count = deltas.length;
      if (deltas.length > TOP) deltas.length = TOP;
      return { kind: 'ok', value: { interval_s: round((at - prev.at) / 1000), statements: deltas, count, columns: cols }, ms: r.ms };
    },
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
