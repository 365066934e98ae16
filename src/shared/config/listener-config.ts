import { z } from 'zod';
import { hostPort } from './host-port.js';
import { logSchema } from './log-config.js';

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
  log: logSchema,
});

export type ListenerConfig = z.infer<typeof listenerConfigSchema>;
