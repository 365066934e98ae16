import { z } from 'zod';
import { hostPort } from './host-port.js';
import { logSchema } from './log-config.js';

/** An interval in ms; 0 turns that collector off. */
const intervalMs = (def: number) => z.number().int().refine((n) => n === 0 || n >= 100, 'expected 0 (off) or at least 100 ms').default(def);

/**
 * The Postgres agent's configuration (DESIGN section 12). Same loader, environment overrides
 * (`BITVILLE_SAFETY_MAX_DB_TIME_PER_SECOND_MS`, ...) and unknown-key errors as the other roles.
 */
export const pgAgentConfigSchema = z.strictObject({
  /** libpq-style URL of the monitored database; a role with pg_monitor is enough. */
  database: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL').default('postgres://bitville_monitor@127.0.0.1:5432/postgres'),
  /** The `project` of every record sent. */
  project: z.string().min(1).default('default'),
  send: z
    .strictObject({
      /** The local daemon's Unix socket (inherits its spool and breaker). Used unless `url` is set. */
      socket: z.string().min(1).default('/var/run/bitville-apm/daemon.sock'),
      /** A listener URL ("https://listener:8443"); when set, records go there directly instead of the socket. */
      url: z.string().regex(/^https?:\/\//, 'expected an http:// or https:// URL').nullable().default(null),
      /** Bearer token for `url`. */
      token: z.string().default(''),
      /** Records kept while the target is down; the oldest are dropped (and counted) beyond it. 2000 records. */
      bufferItems: z.number().int().min(1).default(2_000),
      /** Bytes kept while the target is down, same policy. 16 MiB. */
      bufferBytes: z.number().int().min(1024).default(16 * 1024 * 1024),
      /** Records are sent at least this often (and when 200 are waiting). 1000 ms. */
      flushIntervalMs: z.number().int().min(10).default(1_000),
      /** Per send attempt (connect + write, or the whole HTTP request). 5000 ms. */
      timeoutMs: z.number().int().min(100).default(5_000),
    })
    .prefault({}),
  intervals: z
    .strictObject({
      /** pg_stat_activity with pg_blocking_pids(). 1000 ms. */
      activityMs: intervalMs(1_000),
      /** pg_locks blocking tree (queried only while some session waits on a lock). 1000 ms. */
      locksMs: intervalMs(1_000),
      /** pg_stat_statements deltas. 60000 ms. */
      statementsMs: intervalMs(60_000),
      /** Host metrics from /proc. 10000 ms. */
      systemMs: intervalMs(10_000),
    })
    .prefault({}),
  logs: z
    .strictObject({
      /** Server log file, or the log directory (the newest file is followed, rotation included); null = off. */
      path: z.string().min(1).nullable().default(null),
      format: z.enum(['auto', 'stderr', 'csvlog', 'jsonlog']).default('auto'),
      /** How often the file is checked for new lines, rotation and truncation. 500 ms. */
      pollMs: z.number().int().min(20).default(500),
    })
    .prefault({}),
  safety: z
    .strictObject({
      /** statement_timeout of the agent's session: every query it runs. 500 ms. */
      statementTimeoutMs: z.number().int().min(10).default(500),
      /** lock_timeout of the agent's session. 100 ms. */
      lockTimeoutMs: z.number().int().min(1).default(100),
      /** Database time the agent may use per second, averaged over 10 s; above it, collectors slow down. 20 ms. */
      maxDbTimePerSecondMs: z.number().min(0.1).default(20),
      /** Reconnect backoff cap when the database is down. 30000 ms. */
      maxReconnectDelayMs: z.number().int().min(100).default(30_000),
    })
    .prefault({}),
  /** "host:port" of /health and /metrics. Loopback by default. */
  health: hostPort.default('127.0.0.1:9192'),
  log: logSchema,
});

export type PgAgentConfig = z.infer<typeof pgAgentConfigSchema>;
