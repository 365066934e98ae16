/**
 * The ways a PHP request's correlation id reaches PostgreSQL (DESIGN 12), read by the pg-agent
 * (per session) and by the listener (anywhere in a record): one definition for both.
 */
const ID = '([0-9A-Za-z][0-9A-Za-z._-]{0,127})';
/** `application_name = bitville-<id>`, set by the PHP client's PDO wrapper. */
export const APPLICATION_NAME = new RegExp(`^bitville-${ID}$`);
/** sqlcommenter form the PDO wrapper writes: `/*bitville_id='<id>',traceparent='…'*\/`. */
export const SQLCOMMENTER = new RegExp(`bitville_id='${ID}'`, 'g');
/** The older `/* correlation:<id> *\/` form (bitville_apm_tag_sql()). */
export const OLD_COMMENT = new RegExp(`\\/\\*\\s*correlation[:=]\\s*${ID}\\s*\\*\\/`, 'g');

/** The PHP request a session or statement belongs to: application_name first, then a leading SQL comment. */
export function correlationOf(applicationName: string | null | undefined, query: string | null | undefined): string | null {
  const a = applicationName ? APPLICATION_NAME.exec(applicationName) : null;
  if (a?.[1]) return a[1];
  if (!query) return null;
  const head = query.length > 600 ? query.slice(0, 600) : query; // the comment leads the statement
  return firstMatch(SQLCOMMENTER, head) ?? firstMatch(OLD_COMMENT, head);
}

function firstMatch(re: RegExp, text: string): string | null {
  re.lastIndex = 0;
  const m = re.exec(text);
  re.lastIndex = 0;
  return m?.[1] ?? null;
}

const LEADING_COMMENTS = /^\s*(\/\*[\s\S]*?\*\/\s*)+/;

/** A statement without its leading comments (pg_stat_statements keeps the first caller's comment, id included). */
export function withoutLeadingComments(query: string): string {
  return query.replace(LEADING_COMMENTS, '');
}
