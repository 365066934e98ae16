const APPLICATION_NAME = /^bitville-([0-9A-Za-z][0-9A-Za-z._-]{0,127})$/;
// sqlcommenter form written by the PHP client, and the older `/* correlation:<id> */` form.
const SQLCOMMENTER = /bitville_id='([0-9A-Za-z][0-9A-Za-z._-]{0,127})'/;
const OLD_COMMENT = /\/\*\s*correlation[:=]\s*([0-9A-Za-z][0-9A-Za-z._-]{0,127})\s*\*\//;

/** The PHP request a session or statement belongs to: application_name first, then a SQL comment. */
export function correlationOf(applicationName: string | null | undefined, query: string | null | undefined): string | null {
  const a = applicationName ? APPLICATION_NAME.exec(applicationName) : null;
  if (a?.[1]) return a[1];
  if (!query) return null;
  const head = query.length > 600 ? query.slice(0, 600) : query; // the comment leads the statement
  return SQLCOMMENTER.exec(head)?.[1] ?? OLD_COMMENT.exec(head)?.[1] ?? null;
}

const LEADING_COMMENTS = /^\s*(\/\*[\s\S]*?\*\/\s*)+/;

/** A statement without its leading comments (pg_stat_statements keeps the first caller's comment, id included). */
export function withoutLeadingComments(query: string): string {
  return query.replace(LEADING_COMMENTS, '');
}
