import type { Cursor } from '../cursor.js';
import type { SearchQuery } from '../store.js';

export interface BuiltPgSearch {
  where: string;
  params: unknown[];
  /** The same filters without the cursor, for the total. */
  countWhere: string;
  countParams: unknown[];
}

/** `%`, `_` and `\` in user text match themselves. */
function like(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The SQLite store's search filters (sqlite/search-sql.ts) with numbered parameters. Substring
 * filters use ILIKE, as SQLite's LIKE ignores case (PostgreSQL also folds non-ASCII letters,
 * SQLite only ASCII: the one difference, documented in docs/listener.md).
 */
export function buildPgSearch(q: SearchQuery, cursor: Cursor | null): BuiltPgSearch {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  if (q.projects !== null) where.push(q.projects.length === 0 ? 'false' : `project = ANY(${p([...q.projects])}::text[])`);
  if (q.url !== undefined) where.push(`url ILIKE ${p(like(q.url))}`);
  if (q.method !== undefined) where.push(`method = ${p(q.method.toUpperCase())}`);
  if (q.status !== undefined) where.push(`status = ${p(q.status)}`);
  if (q.host !== undefined) where.push(`host = ${p(q.host)}`);
  if (q.minMs !== undefined) where.push(`duration_ms >= ${p(q.minMs)}`);
  if (q.maxMs !== undefined) where.push(`duration_ms <= ${p(q.maxMs)}`);
  if (q.from !== undefined) where.push(`ts >= ${p(q.from)}`);
  if (q.to !== undefined) where.push(`ts < ${p(q.to)}`);
  if (q.q !== undefined) {
    const text = p(like(q.q));
    where.push(`(correlation_id = ${p(q.q)} OR url ILIKE ${text} OR host ILIKE ${text} OR endpoint ILIKE ${text})`);
  }
  const countWhere = where.length === 0 ? 'true' : where.join(' AND ');
  const countParams = [...params];
  if (cursor) {
    const ts = p(cursor.ts);
    where.push(`(ts < ${ts}::float8 OR (ts = ${ts}::float8 AND id < ${p(cursor.id)}))`);
  }
  return { where: where.length === 0 ? 'true' : where.join(' AND '), params, countWhere, countParams };
}
