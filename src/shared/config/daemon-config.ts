import { z } from 'zod';
import { hostPort } from './host-port.js';
import { httpUrl } from './http-url.js';
import { logSchema } from './log-config.js';

/**
 * The daemon's configuration (DESIGN section 8). Each default sits beside its key with its unit;
 * key names are a contract with operators and tests. Unknown keys are errors (`strictObject`).
 */
export const daemonConfigSchema = z.strictObject({
  /** Unix stream socket PHP clients write NDJSON to. */
  socket: z.string().min(1).default('/var/run/bitville-apm/daemon.sock'),
  /** UDP "host:port" for one-JSON-object datagrams; null = off. */
  udp: hostPort.nullable().default(null),
  /** Holds buffer/ (spool), inbox/, quarantine/, state/. */
  dataDir: z.string().min(1).default('/var/lib/bitville-apm'),
  /** "host:port" of /health and /metrics. Loopback by default: it is not meant for the network. */
  health: hostPort.default('127.0.0.1:9191'),
  ingest: z
    .strictObject({
      /** Largest accepted message in bytes; also the most one connection may buffer. 8 MiB. */
      maxMessageBytes: z.number().int().min(1024).default(8 * 1024 * 1024),
      /** Concurrent client connections; more are closed at once and counted. */
      maxConnections: z.number().int().min(1).default(4096),
      /** A connection that sends nothing for this long is closed. 10 s. */
      idleTimeoutMs: z.number().int().min(100).default(10_000),
      /** Inbox directory sweep period. 2 s. */
      inboxSweepMs: z.number().int().min(100).default(2_000),
      /**
       * structural (default): one pass checks shape, nesting and the id fields, the listener parses
       * fully; full: JSON.parse of every message in the daemon too (docs/daemon.md, "Validation").
       */
      validation: z.enum(['structural', 'full']).default('structural'),
      /**
       * Synthetic connections a new worker sends itself before it accepts, so its first real
       * clients do not meet cold code (docs/daemon.md, "Warm-up"). 0 = none.
       */
      warmUpConnections: z.number().int().min(0).max(10_000).default(100),
    })
    .prefault({}),
  buffer: z
    .strictObject({
      /** memory: fast, a SIGKILL loses the memory buffer; durable: append-on-accept, group fsync. */
      mode: z.enum(['memory', 'durable']).default('memory'),
      /** Items held in memory before they overflow to a spool segment. */
      memoryItems: z.number().int().min(1).default(100),
      /** Bytes held in memory before they overflow to a spool segment. 32 MiB. */
      memoryBytes: z.number().int().min(1024).default(32 * 1024 * 1024),
      /** Durable mode: fsync the open segment at most this often. 200 ms. */
      fsyncMs: z.number().int().min(1).default(200),
      /** Durable mode: an append starts at most this often, so items gather into bigger writes. 5 ms; 0 = at once. */
      commitDelayMs: z.number().int().min(0).max(50).default(5),
    })
    .prefault({}),
  spool: z
    .strictObject({
      /** Most bytes of spool segments on disk. 1 GiB. */
      maxBytes: z.number().int().min(1024).default(1024 * 1024 * 1024),
      /** Keep at least this much free on the spool's filesystem. 512 MiB. */
      minFreeBytes: z.number().int().min(0).default(512 * 1024 * 1024),
      /** What to drop when the spool is full. */
      whenFull: z.enum(['drop_oldest', 'drop_newest']).default('drop_oldest'),
    })
    .prefault({}),
  forward: z
    .strictObject({
      /** Listener base URL; null turns forwarding off (everything stays in the spool). */
      url: httpUrl.nullable().default('http://127.0.0.1:8443'),
      /**
       * Several listeners (DESIGN section 11): batches go to one healthy URL at a time, round robin;
       * each URL has its own circuit breaker. When set, it replaces `url`.
       */
      urls: z.array(httpUrl).min(1).nullable().default(null),
      token: z.string().default(''),
      batchItems: z.number().int().min(1).default(500),
      /** Uncompressed bytes per batch. 4 MiB. */
      batchBytes: z.number().int().min(1024).default(4 * 1024 * 1024),
      /** A partial batch goes this long after its oldest item arrived (full batches go at once). 200 ms. */
      lingerMs: z.number().int().min(1).default(200),
      /** DESIGN section 4's older name for lingerMs; when set, it wins. */
      flushIntervalMs: z.number().int().min(1).optional(),
      /** `gzip` (default) or `none` (the listener takes both). */
      compression: z.enum(['none', 'gzip']).default('gzip'),
      /** zlib level for gzip, 1 (fastest, default) to 9. */
      compressionLevel: z.number().int().min(1).max(9).default(1),
      concurrency: z.number().int().min(1).max(16).default(1),
      connectTimeoutMs: z.number().int().min(1).default(2_000),
      timeoutMs: z.number().int().min(1).default(5_000),
    })
    .prefault({}),
  circuitBreaker: z
    .strictObject({
      failureThreshold: z.number().int().min(1).default(5),
      /** Longest wait before a half-open probe. 60 s. */
      retryTimeoutMs: z.number().int().min(100).default(60_000),
    })
    .prefault({}),
  lifecycle: z
    .strictObject({
      /** Replace the worker above this RSS. 256 MB. */
      maxMemoryMb: z.number().int().min(16).default(256),
      /** Replace the worker after this many messages; 0 = never. */
      maxRequests: z.number().int().min(0).default(0),
      /** Kill and restart a worker whose heartbeats (every 250 ms) stopped this long ago. 30 s; 0 = never. */
      unresponsiveMs: z.number().int().min(0).default(30_000),
    })
    .prefault({}),
  shutdown: z
    .strictObject({
      /** How long a graceful stop waits for open connections and in-flight batches. 2 s. */
      drainMs: z.number().int().min(0).default(2_000),
    })
    .prefault({}),
  log: logSchema,
});

export type DaemonConfig = z.infer<typeof daemonConfigSchema>;
