import pg, { type CustomTypesConfig } from 'pg';

const INT8 = 20;
const INT8_ARRAY = 1016;

function int8Array(text: string): number[] {
  return text === '{}' ? [] : text.slice(1, -1).split(',').map(Number);
}

/**
 * bigint columns as numbers: row ids, counts and histogram pairs all stay below 2^53 (pg-hist.ts),
 * and the read API answers with numbers, as the SQLite store does.
 */
export const PG_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === INT8) return Number;
    if (oid === INT8_ARRAY) return int8Array;
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
  },
} as unknown as CustomTypesConfig;
