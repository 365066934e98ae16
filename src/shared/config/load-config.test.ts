import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './load-config.js';
import { daemonConfigSchema } from './daemon-config.js';
import { listenerConfigSchema } from './listener-config.js';
import { envName } from './env-overrides.js';

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bitville-config-')), 'daemon.yaml');
  writeFileSync(file, text);
  return file;
}

test('defaults match DESIGN section 8', () => {
  const c = loadConfig(daemonConfigSchema, { env: {} });
  assert.equal(c.socket, '/var/run/bitville-apm/daemon.sock');
  assert.equal(c.buffer.memoryItems, 100);
  assert.equal(c.buffer.memoryBytes, 33554432);
  assert.equal(c.spool.whenFull, 'drop_oldest');
  assert.equal(c.forward.batchItems, 500);
  assert.equal(c.circuitBreaker.retryTimeoutMs, 60000);
  assert.equal(c.health, '127.0.0.1:9191');
  assert.ok(Object.isFrozen(c.buffer));
});

test('file, then environment, then overrides win in that order', () => {
  const file = yamlFile('buffer: { memoryItems: 5, mode: durable }\nforward: { url: "http://a:1" }\n');
  const c = loadConfig(daemonConfigSchema, {
    file,
    env: { BITVILLE_BUFFER_MEMORY_ITEMS: '7', BITVILLE_FORWARD_URL: 'http://b:2' },
    overrides: { forward: { url: 'http://c:3' } },
  });
  assert.equal(c.buffer.memoryItems, 7);
  assert.equal(c.buffer.mode, 'durable');
  assert.equal(c.forward.url, 'http://c:3');
});

test('lists every problem, naming key, value and expectation; unknown keys are errors', () => {
  const file = yamlFile('buffer: { memoryItems: -1, mode: fast }\nbogus: 1\n');
  try {
    loadConfig(daemonConfigSchema, { file, env: { BITVILLE_SPOOL_MAX_BYTES: 'lots' } });
    assert.fail('expected ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join('\n');
    assert.match(text, /buffer\.memoryItems = -1/);
    assert.match(text, /buffer\.mode = "fast"/);
    assert.match(text, /bogus/);
    assert.match(text, /BITVILLE_SPOOL_MAX_BYTES="lots": expected a number/);
    assert.equal(err.problems.length, 4);
  }
});

test('environment names follow BITVILLE_SECTION_KEY', () => {
  assert.equal(envName(['forward', 'url']), 'BITVILLE_FORWARD_URL');
  assert.equal(envName(['buffer', 'memoryItems']), 'BITVILLE_BUFFER_MEMORY_ITEMS');
  assert.equal(envName(['dataDir']), 'BITVILLE_DATA_DIR');
});

test('listener tokens can be set as JSON from the environment', () => {
  const c = loadConfig(listenerConfigSchema, { env: { BITVILLE_TOKENS: '{"t1":["shop"]}' } });
  assert.deepEqual(c.tokens, { t1: ['shop'] });
});

test('an unknown key names itself and the nearest known key, without dumping the file as its value', () => {
  const file = yamlFile('bufer: { memoryItems: 5 }\nforward: { url: "http://a:1", tokn: "x" }\nzzzzzzzz: 1\n');
  try {
    loadConfig(daemonConfigSchema, { file, env: {} });
    assert.fail('expected ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems.slice().sort(), [
      'bufer: unknown key (did you mean buffer?)',
      'forward.tokn: unknown key (did you mean forward.token?)',
      `zzzzzzzz: unknown key (known keys here: ${Object.keys(loadConfig(daemonConfigSchema, { env: {} })).join(', ')})`,
    ].sort());
    assert.doesNotMatch(err.message, /memoryItems/, 'the file is not repeated as a value');
  }
});

test('forward.url accepts http and https only', () => {
  for (const url of ['ftp://x', 'file:///etc/passwd', 'listener:8443']) {
    assert.throws(() => loadConfig(daemonConfigSchema, { env: { BITVILLE_FORWARD_URL: url } }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, new RegExp(`forward\\.url = "${url.replace(/[/.]/g, '\\$&')}": expected an http:// or https:// URL`));
      return true;
    });
  }
  assert.equal(loadConfig(daemonConfigSchema, { env: { BITVILLE_FORWARD_URL: 'https://listener.example:8443' } }).forward.url, 'https://listener.example:8443');
});
