import { z } from 'zod';
import { hostPort } from './host-port.js';

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
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      format: z.enum(['json', 'pretty']).default('json'),
    })
    .prefault({}),
});

export type ListenerConfig = z.infer<typeof listenerConfigSchema>;
