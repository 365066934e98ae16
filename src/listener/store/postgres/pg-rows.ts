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
const texts = new Map<string, string>();

function statement(table: string, columns: readonly string[], rows: number): string {
  const name = `${table}:${rows}`;
  let text = texts.get(name);
  if (!text) {
    const n = columns.length;
    const tuples = Array.from({ length: rows }, (_, r) => `(${columns.map((_, c) => `$${r * n + c + 1}`).join(', ')})`);
    text = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`;
    texts.set(name, text);
  }
  return text;
}

/** Inserts `rows` (each an array in `columns` order) into `table` with as few statements as the chunk sizes allow. */
export async function insertRows(client: PoolClient, table: string, columns: readonly string[], rows: readonly unknown[][]): Promise<void> {
  let at = 0;
  while (at < rows.length) {
    const size = CHUNKS.find((c) => c <= rows.length - at) ?? 1;
    const values: unknown[] = [];
    for (let i = at; i < at + size; i++) for (const v of rows[i] as unknown[]) values.push(v);
    await client.query({ name: `bv_${table}_${size}`, text: statement(table, columns, size), values });
    at += size;
  }
}
