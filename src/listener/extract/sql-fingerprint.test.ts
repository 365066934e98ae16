import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sqlFingerprint } from './sql-fingerprint.js';

/** The first implementation, kept as the reference: stored fingerprints are rollup keys and must not change. */
function reference(sql: string): string {
  const TOKENS = /'(?:[^']|'')*'|\/\*[\s\S]*?\*\/|--[^\n]*|\$\d+|\b0x[0-9a-f]+\b|(?<![\w$.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?\b|\s+/gi;
  const text = sql.length > 20_000 ? sql.slice(0, 20_000) : sql;
  let out = text.replace(TOKENS, (m) => {
    const c = m.charCodeAt(0);
    if (c === 0x2f || (c === 0x2d && m.charCodeAt(1) === 0x2d)) return ' ';
    if (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d) return ' ';
    return '?';
  });
  out = out.replace(/\(\s*\?(?:\s*,\s*\?)+\s*\)/g, '(?)').replace(/(\(\?\))(?:\s*,\s*\(\?\))+/g, '$1').replace(/\s+/g, ' ').trim();
  return out.length > 2000 ? out.slice(0, 2000) : out;
}

const PIECES = [
  'SELECT', ' ', '  ', '\n', '\t', '\r\n', ' \n ', '\f', '\u00a0', ' \u00a0', '\v ', 'a', 'x1', 't.col', '*', ',', ', ', '(', ')', '=',
  '42', '-7', '3.5e+2', '0x1F', '$1', '$23', "'it''s'", "''", "'a b'", '/* c */', '/*x*/', '-- note\n', '--', '-', 'IN', ' IN (1, 2, 3)',
  ' VALUES (1, 2), (3, 4)', '(?)', '?', '.5', 'e5', '_9', 'abc123', '1.2.3', '$', '.', "'", '/', '*/',
];

test('the fingerprint is unchanged from the reference implementation on random SQL-like text', () => {
  let seed = 7;
  const rand = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let i = 0; i < 20_000; i++) {
    const sql = Array.from({ length: 1 + rand(30) }, () => PIECES[rand(PIECES.length)] ?? '').join('');
    assert.equal(sqlFingerprint(sql), reference(sql), JSON.stringify(sql));
  }
  const long = `SELECT ${'col, '.repeat(3000)} 1 FROM t WHERE x IN (${'1, '.repeat(4000)}2)`;
  assert.equal(sqlFingerprint(long), reference(long));
});
