import type { PoolClient } from 'pg';

/**
 * Multi-row INSERT ... VALUES as prepared statements of fixed sizes (128, 64, ... 1 rows), so a
 * connection prepares at most eight shapes per table. Parameters go as they are: a Buffer is sent
 * in binary. Measured against COPY (binary) and INSERT ... SELECT unnest(arrays) for 500-row
 * batches of 2 KB payloads (bench/pg-insert.bench.ts, docs/benchmarks.md): VALUES and COPY cost
 * the same within noise, unnest costs PostgreSQL about twice the CPU (bytea[] travels as hex
 * text). VALUES keeps ON CONFLICT available and needs no extra protocol code.
 */
const CHUNKS = [128, 64, 32, 16, 8, 4, 2, 1];

/** What one statement writes: `sql` gets the VALUES tuples (`($1, $2), ($3, $4)`). */
export interface RowShape {
  /** Prepared-statement name prefix, one per shape. */
  name: string;
  columns: readonly string[];
  /** Per column, the type each parameter is cast to (needed where VALUES does not feed a table directly). */
  types?: readonly string[];
  sql(tuples: string): string;
}

/** Plain `INSERT INTO table (columns) VALUES …`. */
export function insertInto(table: string, columns: readonly string[]): RowShape {
  return { name: table, columns, sql: (tuples) => `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples}` };
}

const texts = new Map<string, string>();

function statement(shape: RowShape, rows: number): string {
  const name = `${shape.name}:${rows}`;
  let text = texts.get(name);
  if (!text) {
    const n = shape.columns.length;
    const cast = (c: number): string => (shape.types ? `::${shape.types[c] ?? 'text'}` : '');
    const tuples = Array.from({ length: rows }, (_, r) => `(${shape.columns.map((_, c) => `$${r * n + c + 1}${cast(c)}`).join(', ')})`);
    text = shape.sql(tuples.join(', '));
    texts.set(name, text);
  }
  return text;
}

/** Inserts `rows` (each an array in `shape.columns` order) with as few statements as the chunk sizes allow. */
export async function insertRows(client: PoolClient, shape: RowShape, rows: readonly unknown[][]): Promise<void> {
  let at = 0;
  while (at < rows.length) {
    const size = CHUNKS.find((c) => c <= rows.length - at) ?? 1;
    const values: unknown[] = [];
    for (let i = at; i < at + size; i++) for (const v of rows[i] as unknown[]) values.push(v);
    await client.query({ name: `bv_${shape.name}_${size}`, text: statement(shape, size), values });
    at += size;
  }
}
