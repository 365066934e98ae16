import { z } from 'zod';
import { hostPort } from './host-port.js';
import { logSchema } from './log-config.js';

/** What every exporter shares (DESIGN section 13, docs/exporters.md). */
const exporterCommon = {
  /** Where a newly enabled exporter starts: every stored record (`beginning`) or only new ones (`end`). */
  startAt: z.enum(['beginning', 'end']).default('beginning'),
  /** Most records per batch. 200. */
  batchRecords: z.number().int().min(1).max(10_000).default(200),
  /** Most stored (compressed) payload bytes read per batch. 4 MiB. */
  batchBytes: z.number().int().min(1024).default(4 * 1024 * 1024),
  /** How often a caught-up exporter looks for new records. 250 ms. */
  pollIntervalMs: z.number().int().min(10).default(250),
  /** Connecting to the receiver. 2000 ms. */
  connectTimeoutMs: z.number().int().min(100).default(2_000),
  /** One batch, from connect to confirmation. 10000 ms. */
  timeoutMs: z.number().int().min(100).default(10_000),
  /** Full-jitter backoff between failed attempts. */
  retry: z
    .strictObject({
      /** First retry waits up to this long. 500 ms. */
      baseMs: z.number().int().min(1).default(500),
      /** No retry waits longer. 30000 ms. */
      capMs: z.number().int().min(1).default(30_000),
    })
    .prefault({}),
  circuitBreaker: z
    .strictObject({
      /** Consecutive failed batches that open the circuit. 5. */
      failureThreshold: z.number().int().min(1).default(5),
      /** Longest wait before a probe while open (the first is 1 s, doubling). 60000 ms. */
      retryTimeoutMs: z.number().int().min(10).default(60_000),
    })
    .prefault({}),
  /** `/ready` reports the exporter as behind past this many unsent records... 10000. */
  behindRecords: z.number().int().min(1).default(10_000),
  /** ...or when it has had unsent records and sent nothing for this long. 60 s. */
  behindSeconds: z.number().min(1).default(60),
};

/** A host name, an IPv4 address or a bracketed IPv6 address ([::1]), then a port 1-65535. */
const gelfUrl = z
  .string()
  .regex(/^(tcp|udp|tls):\/\/(\[[0-9a-fA-F:.]+\]|[^/:[\]\s]+):\d{1,5}\/?$/, 'expected tcp://host:port, udp://host:port or tls://host:port (IPv6 in brackets: tcp://[::1]:12201)')
  .refine((u) => {
    const port = Number(/:(\d+)\/?$/.exec(u)?.[1]);
    return port >= 1 && port <= 65_535;
  }, 'the port must be 1-65535')
  .refine((u) => URL.canParse(u), 'not a valid URL');

/** The listener's configuration (DESIGN section 8). Unknown keys are errors. */
export const listenerConfigSchema = z.strictObject({
  /** "host:port" the HTTP API and dashboard bind to. */
  listen: hostPort.default('0.0.0.0:8443'),
  dataDir: z.string().min(1).default('/var/lib/bitville-listener'),
  /** Token -> projects it may write and read ("*" = all). */
  tokens: z.record(z.string().min(1), z.array(z.string().min(1))).default({ 'change-me': ['*'] }),
  store: z
    .strictObject({
      /** "sqlite:<path>" (relative to dataDir) or a postgres:// URL. */
      url: z.string().min(1).default('sqlite:listener.db'),
      retentionDays: z.number().min(0.001).default(7),
      /** How often the retention job runs. 3600000 ms (hourly). */
      retentionIntervalMs: z.number().int().min(1000).default(3_600_000),
      // PostgreSQL only (docs/listener.md "Storage (PostgreSQL)"); ignored for SQLite.
      /** Connections per listener process. */
      poolSize: z.number().int().min(1).max(200).default(10),
      /** Give up connecting after this long (the start-up error or a 503 names the cause). */
      connectTimeoutMs: z.number().int().min(100).default(5000),
      /** Cancel a statement running longer than this (0 = no limit). */
      statementTimeoutMs: z.number().int().min(0).default(30_000),
      /** libpq's sslmode; null = the URL's `sslmode`, else disable. `prefer`/`allow` are not offered: they fall back to plain text silently. */
      sslmode: z.enum(['disable', 'require', 'verify-ca', 'verify-full']).nullable().default(null),
      /** PEM file of the CA(s) that signed the server certificate (libpq's sslrootcert). */
      sslRootCert: z.string().min(1).nullable().default(null),
      /** Client certificate and key (PEM) for certificate authentication. */
      sslCert: z.string().min(1).nullable().default(null),
      sslKey: z.string().min(1).nullable().default(null),
      /** Daily partitions created ahead of today, so ingest never waits for one at midnight. */
      partitionsAhead: z.number().int().min(1).max(60).default(3),
    })
    .prefault({}),
  tls: z
    .strictObject({
      key: z.string().nullable().default(null),
      cert: z.string().nullable().default(null),
    })
    .prefault({}),
  limits: z
    .strictObject({
      /** Largest request body, compressed or not. 64 MiB. */
      maxBodyBytes: z.number().int().min(1024).default(64 * 1024 * 1024),
      /** Largest single profile line after gunzip (the daemon's ingest.maxMessageBytes). 8 MiB. */
      maxLineBytes: z.number().int().min(1024).default(8 * 1024 * 1024),
      /** Gzip bodies being inflated or waiting for a parse worker at once, all ingest routes; more answer 503 busy. 16. */
      maxInflatingBodies: z.number().int().min(1).default(16),
      /** Ingested lines per second each token may sustain (token bucket). 50000 lines/s. */
      linesPerSecond: z.number().min(0.001).default(50_000),
      /** Lines a token may send at once before 429s start. 100000 lines (2 s at the default rate). */
      burstLines: z.number().min(1).default(100_000),
    })
    .prefault({}),
  /** UDP ingest: one JSON object per datagram. Off unless `listen` is set. */
  udp: z
    .strictObject({
      /** "host:port", e.g. "0.0.0.0:8126"; null = off. */
      listen: hostPort.nullable().default(null),
      /** Datagrams must carry this value in `_secret` (removed before storing) unless the sender is in allowFrom. */
      secret: z.string().min(1).nullable().default(null),
      /** Sender IP addresses accepted without a secret. */
      allowFrom: z.array(z.string().min(1)).default([]),
      /** Projects UDP senders may write ("*" = all). */
      projects: z.array(z.string().min(1)).default(['*']),
    })
    .prefault({}),
  /** Copies of every stored record to other systems (DESIGN section 13); each is off while its url is null. */
  exporters: z
    .strictObject({
      gelf: z
        .strictObject({
          /** tcp://host:port (NUL-delimited frames), udp://host:port (chunked), tls://host:port; null = off. */
          url: gelfUrl.nullable().default(null),
          /** UDP only (GELF over TCP cannot be compressed): true = gzip, or "gzip", "zlib", false. */
          compress: z.union([z.boolean(), z.enum(['gzip', 'zlib'])]).default(true),
          /** The stored payload goes into full_message, cut to this many bytes. 65536. */
          fullMessageMaxBytes: z.number().int().min(0).default(65_536),
          /** UDP datagram size; larger messages are chunked (at most 128 chunks). 8192 bytes. */
          chunkBytes: z.number().int().min(256).max(65_000).default(8192),
          /** UDP: wait this long after a batch for an ICMP "port unreachable" before counting it sent. 50 ms. */
          udpConfirmMs: z.number().int().min(0).default(50),
          /** tls:// only: PEM files, and whether the receiver's certificate must verify. */
          tls: z
            .strictObject({
              ca: z.string().nullable().default(null),
              cert: z.string().nullable().default(null),
              key: z.string().nullable().default(null),
              rejectUnauthorized: z.boolean().default(true),
            })
            .prefault({}),
          ...exporterCommon,
        })
        .prefault({}),
      otlp: z
        .strictObject({
          /** OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces; null = off. */
          url: z.url({ protocol: /^https?$/ }).nullable().default(null),
          /** Extra request headers (e.g. an API key). */
          headers: z.record(z.string().min(1), z.string()).default({}),
          /** Body encoding: protobuf (application/x-protobuf) or json (application/json). */
          encoding: z.enum(['protobuf', 'json']).default('protobuf'),
          /** Request body compression. */
          compression: z.enum(['gzip', 'none']).default('gzip'),
          /** CLIENT spans per trace: the slowest queries; the rest are counted on the SERVER span. 50 (at most 200, what ingest reads). */
          maxSqlSpans: z.number().int().min(0).max(200).default(50),
          /** INTERNAL spans for the functions with the most inclusive time (aggregated per function, not per call). 3 (at most 50). */
          functionSpans: z.number().int().min(0).max(50).default(3),
          /** `db.system` when the payload does not name the database. */
          dbSystem: z.string().min(1).default('other_sql'),
          ...exporterCommon,
        })
        .prefault({}),
    })
    .prefault({}),
  log: logSchema,
});

export type ListenerConfig = z.infer<typeof listenerConfigSchema>;
