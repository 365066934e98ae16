import { isObj } from './fields.js';

const APPLICATION_NAME = /^bitville-([0-9A-Za-z][0-9A-Za-z._-]{0,127})$/;
const SQL_COMMENT = /\/\*\s*correlation[:=]\s*([0-9A-Za-z][0-9A-Za-z._-]{0,127})\s*\*\//g;
const MAX_IDS = 1000;
const MAX_NODES = 50_000;
const MAX_DEPTH = 8;

/**
 * Correlation ids a Postgres-agent record carries anywhere inside it: `correlation_id` fields,
 * `application_name: "bitville-<id>"` and `/* correlation:<id> *\/` SQL comments. The walk is
 * bounded so a huge or deeply nested record costs little.
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
        if (node !== '' && node.length <= 128) found.add(node);
        return;
      }
      if (key === 'application_name') {
        const m = APPLICATION_NAME.exec(node);
        if (m?.[1]) found.add(m[1]);
      }
      if (node.includes('correlation')) {
        for (const m of node.matchAll(SQL_COMMENT)) if (m[1]) found.add(m[1]);
      }
      return;
    }
    if (depth >= MAX_DEPTH) return;
    if (Array.isArray(node)) for (const item of node) walk(item, depth + 1, key);
    else if (isObj(node)) for (const [k, v] of Object.entries(node)) walk(v, depth + 1, k);
  }
}
