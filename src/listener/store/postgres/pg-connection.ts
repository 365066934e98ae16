import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { parse as parseConnectionString } from 'pg-connection-string';
import type { PoolConfig } from 'pg';

/** The listener's `store.*` keys the PostgreSQL store reads (src/shared/config/listener-config.ts). */
export interface PgStoreSettings {
  url: string;
  poolSize: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  sslmode: 'disable' | 'require' | 'verify-ca' | 'verify-full' | null;
  sslRootCert: string | null;
  sslCert: string | null;
  sslKey: string | null;
}

export type SslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

export interface PgTarget {
  pool: PoolConfig;
  /** For messages and logs: user@host:port/db, never the password. */
  display: string;
  user: string;
  database: string;
  sslmode: SslMode;
}

export type PgTargetResult = { ok: true; target: PgTarget } | { ok: false; message: string };

const SSL_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl'];
const URL_PATTERN = /^postgres(ql)?:\/\//;

export function isPostgresUrl(url: string): boolean {
  return URL_PATTERN.test(url);
}

/** The URL with any password replaced, for error messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@/]*@/, '$1:***@').replace(/([?&]password=)[^&]*/i, '$1***');
}

/**
 * `store.url` (libpq URL forms, including `?host=/var/run/postgresql` for a Unix socket) and the
 * `store.ssl*` keys as a node-postgres Pool config. TLS follows libpq's sslmode meanings; the
 * `store.*` keys win over the same parameters in the URL. Certificate files are read here, so a
 * missing file is a start-up error naming its key.
 */
export function pgTarget(s: PgStoreSettings): PgTargetResult {
  if (!isPostgresUrl(s.url)) return { ok: false, message: `store.url = "${redactUrl(s.url)}": expected postgres://user@host:port/database` };
  let parsed: ReturnType<typeof parseConnectionString>;
  let params: URLSearchParams;
  try {
    // TLS parameters are taken out and applied below: pg-connection-string would read the files
    // itself and give its own meaning to sslmode.
    const q = s.url.indexOf('?');
    params = new URLSearchParams(q < 0 ? '' : s.url.slice(q + 1));
    const rest = new URLSearchParams(params);
    for (const p of SSL_PARAMS) rest.delete(p);
    const query = rest.toString();
    parsed = parseConnectionString((q < 0 ? s.url : s.url.slice(0, q)) + (query ? `?${query}` : ''));
  } catch (err) {
    return { ok: false, message: `store.url = "${redactUrl(s.url)}": not a valid URL (${(err as Error).message})` };
  }
  const modeText = s.sslmode ?? params.get('sslmode') ?? 'disable';
  if (!['disable', 'require', 'verify-ca', 'verify-full'].includes(modeText)) {
    return {
      ok: false,
      message: `store.url: sslmode=${modeText} is not supported: use disable, require, verify-ca or verify-full (store.sslmode); "prefer" and "allow" would fall back to an unencrypted connection without telling`,
    };
  }
  const sslmode = modeText as SslMode;
  const files: { key: string; path: string | null; into: 'ca' | 'cert' | 'key' }[] = [
    { key: 'store.sslRootCert', path: s.sslRootCert ?? params.get('sslrootcert'), into: 'ca' },
    { key: 'store.sslCert', path: s.sslCert ?? params.get('sslcert'), into: 'cert' },
    { key: 'store.sslKey', path: s.sslKey ?? params.get('sslkey'), into: 'key' },
  ];
  const tls: ConnectionOptions = {};
  for (const f of files) {
    if (f.path === null) continue;
    try {
      tls[f.into] = readFileSync(f.path, 'utf8');
    } catch (err) {
      return { ok: false, message: `${f.key} = "${f.path}": cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
    }
  }
  if (sslmode === 'verify-ca' || sslmode === 'verify-full') {
    if (tls.ca === undefined) return { ok: false, message: `store.sslmode = ${sslmode} needs store.sslRootCert (the CA that signed the server's certificate)` };
  }
  const host = parsed.host || 'localhost';
  const socket = host.startsWith('/');
  const port = parsed.port ? Number(parsed.port) : 5432;
  const user = parsed.user || process.env.PGUSER || process.env.USER || 'postgres';
  const database = parsed.database || user;
  const pool: PoolConfig = {
    host,
    port,
    user,
    database,
    max: s.poolSize,
    connectionTimeoutMillis: s.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: 'bitville-apm-listener',
    ...(s.statementTimeoutMs > 0 ? { statement_timeout: s.statementTimeoutMs } : {}),
    ...(parsed.password ? { password: parsed.password } : {}),
  };
  if (sslmode !== 'disable' && !socket) {
    // require: encrypted, not verified, unless a CA was given (then as verify-ca, as libpq does).
    const verify = sslmode !== 'require' || tls.ca !== undefined;
    pool.ssl = {
      ...tls,
      rejectUnauthorized: verify,
      ...(sslmode === 'verify-full' ? {} : { checkServerIdentity: () => undefined }),
    };
  }
  const where = socket ? `${host}/.s.PGSQL.${port}` : `${host}:${port}`;
  return { ok: true, target: { pool, display: `${user}@${where}/${database}`, user, database, sslmode: socket ? 'disable' : sslmode } };
}
