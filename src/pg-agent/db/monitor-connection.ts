import pg from 'pg';
import type { Logger } from '../../shared/telemetry/logger.js';
import { backoffMs } from '../backoff.js';

export type QueryOutcome<R> =
  | { kind: 'ok'; rows: R[]; ms: number }
  /** Not connected (down, reconnecting): nothing was sent to the database. */
  | { kind: 'unavailable' }
  /** The database answered with an error (`code` = SQLSTATE), or the query timed out. */
  | { kind: 'error'; code: string; message: string; ms: number };

export type ConnectionState = 'connecting' | 'up' | 'down' | 'stopped';

export interface MonitorConnectionOptions {
  url: string;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  maxReconnectDelayMs: number;
  log: Logger;
  /** Called with the wall time of every query sent (the agent's database-time budget). */
  onQueryMs?: (name: string, ms: number) => void;
  /** Called after each (re)connect, e.g. to re-detect the server version. */
  onConnected?: (info: { serverVersionNum: number; pid: number }) => void;
}

export interface MonitorConnection {
  start(): void;
  query<R>(name: string, sql: string, params?: unknown[]): Promise<QueryOutcome<R>>;
  state(): ConnectionState;
  stats(): { state: ConnectionState; connects: number; connectFailures: number; lastError: string | null; serverVersionNum: number | null; backendPid: number | null; connectedSince: number | null };
  stop(): Promise<void>;
}

/** SQLSTATEs that mean "this session is gone or the server is refusing work": reconnect with backoff. */
const SESSION_LOST = /^(08|57P0[1-4]|53300|53400|XX000)/;

/**
 * Exactly one connection to the monitored database, ever: queries run one at a time through it
 * (a caller waits for the one in flight), a lost connection is closed before the next attempt, and
 * reconnects back off up to `maxReconnectDelayMs` with jitter. statement_timeout and lock_timeout
 * are session settings sent at connect, so they apply to every query without an extra round trip.
 */
export function createMonitorConnection(o: MonitorConnectionOptions): MonitorConnection {
  let client: pg.Client | null = null;
  let state: ConnectionState = 'down';
  let attempt = 0;
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<unknown> = Promise.resolve();
  const s = { connects: 0, connectFailures: 0, lastError: null as string | null, serverVersionNum: null as number | null, backendPid: null as number | null, connectedSince: null as number | null };

  function scheduleConnect(delayMs: number): void {
    if (state === 'stopped' || timer) return;
    timer = setTimeout(() => {
      timer = null;
      connect().catch((err: unknown) => o.log.error({ err }, 'pg-agent connect loop failed'));
    }, delayMs);
    timer.unref();
  }

  async function connect(): Promise<void> {
    if (state === 'stopped') return;
    state = 'connecting';
    const c = new pg.Client({
      connectionString: o.url,
      application_name: 'bitville-pg-agent',
      statement_timeout: o.statementTimeoutMs,
      lock_timeout: o.lockTimeoutMs,
      idle_in_transaction_session_timeout: Math.max(1_000, o.statementTimeoutMs * 4),
      // The client-side guard for a hung network: the server's statement_timeout cannot fire then.
      query_timeout: o.statementTimeoutMs + 2_000,
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
    });
    c.on('error', (err) => lost(c, err)); // idle connection dropped by the server (restart, terminate)
    try {
      await c.connect();
      const r = await c.query<{ v: string; pid: number }>("SELECT current_setting('server_version_num') AS v, pg_backend_pid() AS pid");
      const row = r.rows[0];
      if (state !== 'connecting') {
        await c.end().catch(() => undefined);
        return;
      }
      client = c;
      state = 'up';
      attempt = 0;
      s.connects++;
      s.connectedSince = Date.now() / 1000;
      s.serverVersionNum = row ? Number(row.v) : null;
      s.backendPid = row?.pid ?? null;
      o.log.info({ server_version_num: s.serverVersionNum, backend_pid: s.backendPid }, 'connected to the database');
      o.onConnected?.({ serverVersionNum: s.serverVersionNum ?? 0, pid: s.backendPid ?? 0 });
    } catch (err) {
      s.connectFailures++;
      s.lastError = (err as Error).message;
      await c.end().catch(() => undefined);
      if (state !== 'connecting') return;
      state = 'down';
      const delay = Math.max(500, backoffMs(attempt++, { initialMs: 1_000, maxMs: o.maxReconnectDelayMs }));
      if (attempt === 1 || attempt % 10 === 0) o.log.warn({ err: (err as Error).message, retry_in_ms: delay, attempt }, 'database unavailable; retrying with backoff');
      scheduleConnect(delay);
    }
  }

  function lost(c: pg.Client, err: unknown): void {
    if (client !== c) return;
    client = null;
    s.connectedSince = null;
    s.lastError = (err as Error).message;
    c.end().catch(() => undefined); // always close before the next attempt: never two sessions
    if (state === 'stopped') return;
    state = 'down';
    o.log.warn({ err: s.lastError }, 'database connection lost; reconnecting with backoff');
    scheduleConnect(Math.max(500, backoffMs(attempt++, { initialMs: 1_000, maxMs: o.maxReconnectDelayMs })));
  }

  async function run<R>(name: string, sql: string, params: unknown[] | undefined): Promise<QueryOutcome<R>> {
    const c = client;
    if (!c || state !== 'up') return { kind: 'unavailable' };
    const started = performance.now();
    try {
      const r = await c.query(sql, params);
      const ms = performance.now() - started;
      o.onQueryMs?.(name, ms);
      return { kind: 'ok', rows: r.rows as R[], ms };
    } catch (err) {
      const ms = performance.now() - started;
      o.onQueryMs?.(name, ms);
      const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'client_error';
      const message = (err as Error).message;
      // No SQLSTATE means the client itself failed (socket closed, read timeout): the session is unusable.
      if (code === 'client_error' || SESSION_LOST.test(code)) lost(c, err);
      return { kind: 'error', code, message, ms };
    }
  }

  return {
    start() {
      scheduleConnect(0);
    },
    query<R>(name: string, sql: string, params?: unknown[]): Promise<QueryOutcome<R>> {
      const next = chain.then(() => run<R>(name, sql, params));
      chain = next.catch(() => undefined);
      return next;
    },
    state: () => state,
    stats: () => ({ state, ...s }),
    async stop() {
      state = 'stopped';
      if (timer) clearTimeout(timer);
      timer = null;
      const c = client;
      client = null;
      await chain.catch(() => undefined);
      if (c) await c.end().catch(() => undefined);
    },
  };
}
