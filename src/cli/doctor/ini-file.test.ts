import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CLIENT_DEFAULTS } from './client-settings.js';
import { iniWordValue, parseIni } from './ini-file.js';

test('INI lines are split as PHP does: sections, quotes, comments after unquoted values only', () => {
  const e = parseIni('; pool\n[www]\nuser = www-data ; the FPM user\nenv[A] = "x ; y"\nenv[B] = off\n# hash comment\nnot a line\n');
  assert.deepEqual(e.map((x) => [x.section, x.key, x.value, x.quoted, x.line]), [
    ['www', 'user', 'www-data', false, 3],
    ['www', 'env[A]', 'x ; y', true, 4],
    ['www', 'env[B]', 'off', false, 5],
  ]);
});

test("unquoted false, off, no, none and null become empty to PHP's INI parser; quoted ones stay", () => {
  for (const w of ['false', 'off', 'no', 'none', 'null', 'FALSE']) assert.equal(iniWordValue({ value: w, quoted: false }), '', w);
  for (const w of ['true', 'on', 'yes']) assert.equal(iniWordValue({ value: w, quoted: false }), '1', w);
  assert.equal(iniWordValue({ value: 'false', quoted: true }), 'false');
  assert.equal(iniWordValue({ value: '0', quoted: false }), '0');
});

test("the doctor's copy of the client defaults matches clients/php/bitville-apm.php", () => {
  const php = readFileSync(new URL('../../../../clients/php/bitville-apm.php', import.meta.url), 'utf8');
  for (const [key, value] of Object.entries(CLIENT_DEFAULTS)) {
    const m = new RegExp(`'${key}' => ([^,]+),`).exec(php);
    assert.ok(m?.[1], key);
    assert.equal(m[1].replace(/^'|'$/g, ''), value, key);
  }
});
