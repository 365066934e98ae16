import type { Cursor } from '../cursor.js';
import { likePattern, type BuiltSearch } from '../search-page.js';
import type { SearchQuery } from '../store.js';

/**
 * The SQLite store's search filters (sqlite/search-sql.ts) with numbered parameters.
 * - Substring filters are `ILIKE` under the "C" collation: case folded for ASCII letters only,
 *   exactly as SQLite's LIKE, and about three times cheaper per row than folding under the
 *   database's locale (a substring search tests up to ~50,000 rows newest first; measured in
 *   docs/benchmarks.md, issue 12 second round).
 * - One project is `project = $n`, not `= ANY(…)`: PostgreSQL 15 can walk an index such as
 *   (project, status, ts) in ts order only for an equality, so the page needs no sort.
 */
export function buildPgSearch(q: SearchQuery, cursor: Cursor | null): BuiltSearch {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  if (q.projects !== null) {
    if (q.projects.length === 0) where.push('false');
    else if (q.projects.length === 1) where.push(`project = ${p(q.projects[0])}`);
    else where.push(`project = ANY(${p([...q.projects])}::text[])`);
  }
  if (q.url !== undefined) where.push(`url COLLATE "C" ILIKE ${p(likePattern(q.url))}`);
  if (q.method !== undefined) where.push(`method = ${p(q.method.toUpperCase())}`);
  if (q.status !== undefined) where.push(`status = ${p(q.status)}`);
  if (q.host !== undefined) where.push(`host = ${p(q.host)}`);
  if (q.minMs !== undefined) where.push(`duration_ms >= ${p(q.minMs)}`);
  if (q.maxMs !== undefined) where.push(`duration_ms <= ${p(q.maxMs)}`);
  if (q.from !== undefined) where.push(`ts >= ${p(q.from)}`);
  if (q.to !== undefined) where.push(`ts < ${p(q.to)}`);
  if (q.q !== undefined) {
    const text = p(likePattern(q.q));
    where.push(`(correlation_id = ${p(q.q)} OR url COLLATE "C" ILIKE ${text} OR host COLLATE "C" ILIKE ${text} OR endpoint COLLATE "C" ILIKE ${text})`);
  }
  const countWhere = where.length === 0 ? 'true' : where.join(' AND ');
  const countParams = [...params];
  if (cursor) {
    const ts = p(cursor.ts);
    where.push(`(ts < ${ts}::float8 OR (ts = ${ts}::float8 AND id < ${p(cursor.id)}))`);
  }
  return { where: where.length === 0 ? 'true' : where.join(' AND '), params, countWhere, countParams };
}
