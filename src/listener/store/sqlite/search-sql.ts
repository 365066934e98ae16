import type { Cursor } from '../cursor.js';
import { likePattern, type BuiltSearch } from '../search-page.js';
import type { SearchQuery } from '../store.js';

export function buildSearch(q: SearchQuery, cursor: Cursor | null): BuiltSearch {
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.projects !== null) {
    where.push(q.projects.length === 0 ? '0' : `project IN (${q.projects.map(() => '?').join(', ')})`);
    params.push(...q.projects);
  }
  if (q.url !== undefined) {
    where.push("url LIKE ? ESCAPE '\\'");
    params.push(likePattern(q.url));
  }
  if (q.method !== undefined) {
    where.push('method = ?');
    params.push(q.method.toUpperCase());
  }
  if (q.status !== undefined) {
    where.push('status = ?');
    params.push(q.status);
  }
  if (q.host !== undefined) {
    where.push('host = ?');
    params.push(q.host);
  }
  if (q.minMs !== undefined) {
    where.push('duration_ms >= ?');
    params.push(q.minMs);
  }
  if (q.maxMs !== undefined) {
    where.push('duration_ms <= ?');
    params.push(q.maxMs);
  }
  if (q.from !== undefined) {
    where.push('ts >= ?');
    params.push(q.from);
  }
  if (q.to !== undefined) {
    where.push('ts < ?');
    params.push(q.to);
  }
  if (q.q !== undefined) {
    where.push("(correlation_id = ? OR url LIKE ? ESCAPE '\\' OR host LIKE ? ESCAPE '\\' OR endpoint LIKE ? ESCAPE '\\')");
    params.push(q.q, likePattern(q.q), likePattern(q.q), likePattern(q.q));
  }
  const countWhere = where.length === 0 ? '1' : where.join(' AND ');
  const countParams = [...params];
  if (cursor) {
    where.push('(ts < ? OR (ts = ? AND id < ?))');
    params.push(cursor.ts, cursor.ts, cursor.id);
  }
  return { where: where.length === 0 ? '1' : where.join(' AND '), params, countWhere, countParams };
}

