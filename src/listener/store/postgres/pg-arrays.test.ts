import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PG_ADMIN } from '../../../../test/helpers/pg-database.js';
import { numberArray, textArray } from './pg-arrays.js';

test('array literals read back from PostgreSQL as the same values: quotes, backslashes, commas, braces, NULL-like and empty text, and numbers to the last digit', async () => {
  const c = new pg.Client(PG_ADMIN);
  await c.connect();
  try {
    const texts = ['', 'NULL', 'a,b', '{x}', 'say "hi"', 'C:\\path\\', 'ünï “ok”', ' spaced ', '\\"'];
    const numbers = [0, -1, 2.5, 1796165490.123456, 2 ** 52 + 1, 1e-7, 0.1 + 0.2];
    const r = await c.query<{ t: string[]; n: number[] }>('SELECT $1::text[] AS t, $2::float8[]::text[] AS n', [textArray(texts), numberArray(numbers)]);
    assert.deepEqual(r.rows[0]?.t, texts);
    assert.deepEqual(r.rows[0]?.n.map(Number), numbers);
    assert.deepEqual((await c.query<{ t: string[] }>('SELECT $1::text[] AS t', [textArray([])])).rows[0]?.t, []);
  } finally {
    await c.end();
  }
});
