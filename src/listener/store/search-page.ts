import { encodeCursor } from './cursor.js';
import { TOTAL_CAP, type RequestSummary, type SearchPage } from './store.js';

/** A search's filters as SQL, from either store's builder (sqlite/search-sql.ts, postgres/pg-search.ts). */
export interface BuiltSearch {
  where: string;
  params: unknown[];
  /** The same filters without the cursor, for the total. */
  countWhere: string;
  countParams: unknown[];
}

/** A substring pattern in which `%`, `_` and `\` of the user's text match themselves (`ESCAPE '\'`). */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The total, counted along the same newest-first walk as the page and stopped at TOTAL_CAP + 1
 * rows: counting through whichever index suits the filter alone read 10-60x more rows on 1 M
 * profiles (issue 4 bench). One column, `n`.
 */
export function cappedCountSql(countWhere: string): string {
  return `SELECT count(*) AS n FROM (SELECT 1 FROM requests WHERE ${countWhere} ORDER BY ts DESC, id DESC LIMIT ${TOTAL_CAP + 1}) capped`;
}

/** The page from the `limit + 1` rows a store read newest first (the extra one only tells that there are more). */
export function toSearchPage(rows: Array<RequestSummary & { id: number }>, limit: number, total: number): SearchPage {
  const page = rows.length > limit ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return {
    items: page.map(({ id: _id, ...summary }) => summary),
    next_cursor: rows.length > limit && last ? encodeCursor(last.timestamp, last.id) : null,
    total: Math.min(total, TOTAL_CAP),
    total_capped: total > TOTAL_CAP,
  };
}
