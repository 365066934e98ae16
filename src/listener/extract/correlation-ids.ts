import { APPLICATION_NAME, OLD_COMMENT as SQL_COMMENT, SQLCOMMENTER, correlationOf } from '../../shared/protocol/correlation-forms.js';
import { isObj } from './fields.js';

/** A database session as the pg-agent names it in pg_locks records: `pg:<pid>:<backend_start unix s>`. */
const SESSION_KEY = /^pg:\d{1,10}:\d{1,12}$/;
const MAX_IDS = 1000;
const MAX_NODES = 50_000;
const MAX_DEPTH = 8;

/**
 * Correlation ids a Postgres-agent record carries anywhere inside it: nested `correlation_id`
 * fields, `application_name: "bitville-<id>"`, `/* correlation:<id> *\/` and sqlcommenter
 * `bitville_id='<id>'` SQL comments, and the `session_key` of database sessions (so a blocking
 * session's page can find the records it appears in). The top-level `correlation_id` is the
 * record's own key, not a mention. The walk is bounded so a huge or deeply nested record costs little.
 */
export function correlationIds(record: unknown): string[] {
  const found = new Set<string>();
  let nodes = 0;
  walk(record, 0, '');
  return [...found];

  function walk(node: unknown, depth: number, key: string): void {
    if (++nodes > MAX_NODES || found.size >= MAX_IDS) return;
    if (typeof node === 'string') {
      if (key === 'correlation_id') {
        if (depth > 1 && node !== '' && node.length <= 128) found.add(node);
        return;
      }
      if (key === 'session_key') {
        if (SESSION_KEY.test(node)) found.add(node);
        return;
      }
      if (key === 'application_name') {
        const m = APPLICATION_NAME.exec(node);
        if (m?.[1]) found.add(m[1]);
      }
      if (node.includes('correlation')) {
        for (const m of node.matchAll(SQL_COMMENT)) if (m[1]) found.add(m[1]);
      }
      if (node.includes('bitville_id=')) {
        for (const m of node.matchAll(SQLCOMMENTER)) if (m[1]) found.add(m[1]);
      }
      return;
    }
    if (depth >= MAX_DEPTH) return;
    if (Array.isArray(node)) for (const item of node) walk(item, depth + 1, key);
    else if (isObj(node)) for (const [k, v] of Object.entries(node)) walk(v, depth + 1, k);
  }
}

/** The PHP request one database session (or log event) belongs to: its correlation_id, application_name or leading SQL comment. */
export function sessionCorrelationId(s: Record<string, unknown>): string | null {
  if (typeof s.correlation_id === 'string' && s.correlation_id !== '' && s.correlation_id.length <= 128) return s.correlation_id;
  return correlationOf(typeof s.application_name === 'string' ? s.application_name : null, typeof s.query === 'string' ? s.query : null);
}
