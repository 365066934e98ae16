import type { Pool, PoolClient } from 'pg';

/** SQLSTATEs worth one more try of the whole transaction: deadlock, serialization failure. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 3;

export function sqlState(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/**
 * Runs `fn` inside BEGIN/COMMIT on one pooled connection. A deadlock or serialization failure
 * (two listeners touching the same rollup rows) retries the whole transaction; anything else
 * rolls back and throws. A connection that failed mid-transaction is destroyed, not reused.
 */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error;
      }
      if (attempt < MAX_ATTEMPTS && RETRYABLE.has(sqlState(err) ?? '')) continue;
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
