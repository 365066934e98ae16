import { sqlState } from './pg-tx.js';
import type { PgTarget } from './pg-connection.js';

/**
 * A start-up failure as one sentence for the operator: which key, what went wrong, what to do.
 * Unknown errors keep PostgreSQL's own message.
 */
export function describePgError(err: unknown, t: PgTarget): string {
  const code = sqlState(err) ?? '';
  const msg = err instanceof Error ? err.message : String(err);
  const where = `store.url (${t.display})`;
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT'].includes(code)) {
    return `${where}: cannot reach PostgreSQL (${code}): is the server running and listening there? Check the host, port or socket directory in store.url`;
  }
  if (/timeout/i.test(msg) && !code) {
    return `${where}: PostgreSQL did not answer within store.connectTimeoutMs: check the host and port in store.url and any firewall between`;
  }
  if (code === '28P01') return `${where}: password authentication failed for user "${t.user}": fix the user or password in store.url (or PGPASSWORD / ~/.pgpass)`;
  if (code === '28000') return `${where}: PostgreSQL refused user "${t.user}" (${msg}): add a pg_hba.conf entry for this host, user and database, or connect with another user`;
  if (code === '3D000') return `${where}: database "${t.database}" does not exist: create it (createdb -O ${t.user} ${t.database}) or fix the database name in store.url`;
  if (code === '42501') {
    return `${where}: user "${t.user}" lacks a privilege the listener needs (${msg}): it must own the database or have CREATE on its schema (GRANT CREATE ON SCHEMA public TO ${t.user}), and the listener creates its tables and daily partitions itself`;
  }
  if (code === '53300') return `${where}: PostgreSQL has no connection slots left (${msg}): lower store.poolSize or raise max_connections`;
  if (/SSL|TLS|certificate|self.signed/i.test(msg) || /^(ERR_TLS|DEPTH_ZERO|UNABLE_TO|CERT_|SELF_SIGNED)/.test(code)) {
    return `${where}: TLS failed with store.sslmode=${t.sslmode} (${msg}): check store.sslRootCert (the CA of the server's certificate) and, for verify-full, that the host name in store.url is in the certificate`;
  }
  return `${where}: ${msg}${code ? ` (SQLSTATE ${code})` : ''}`;
}
