import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from './load-config.js';
import { pgAgentConfigSchema } from './pg-agent-config.js';

const DOCS = new URL('../../../../docs/pg-agent.md', import.meta.url); // dist/src/shared/config -> repo

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bitville-config-')), 'pg-agent.yaml');
  writeFileSync(file, text);
  return file;
}

test('pg-agent defaults are DESIGN section 12\'s, and the YAML in docs/pg-agent.md is exactly them', () => {
  const c = loadConfig(pgAgentConfigSchema, { env: {} });
  assert.equal(c.send.socket, '/var/run/bitville-apm/daemon.sock');
  assert.equal(c.send.url, null);
  assert.deepEqual(c.intervals, { activityMs: 1000, locksMs: 1000, statementsMs: 60000, systemMs: 10000 });
  assert.equal(c.logs.format, 'auto');
  assert.equal(c.safety.statementTimeoutMs, 500);
  assert.equal(c.safety.maxDbTimePerSecondMs, 20);
  assert.equal(c.health, '127.0.0.1:9192');
  const block = /```yaml\n(database:[\s\S]*?)```/.exec(readFileSync(DOCS, 'utf8'))?.[1];
  assert.ok(block, 'the docs have the config block');
  assert.deepEqual(loadConfig(pgAgentConfigSchema, { file: yamlFile(block), env: {} }), c);
  assert.deepEqual(parse(block), JSON.parse(JSON.stringify(c)));
});

test('pg-agent config: environment overrides and every bad or unknown key named', () => {
  const c = loadConfig(pgAgentConfigSchema, { file: yamlFile('send: { url: "http://listener:8443", token: t }\n'), env: { BITVILLE_SAFETY_MAX_DB_TIME_PER_SECOND_MS: '5', BITVILLE_INTERVALS_LOCKS_MS: '0', BITVILLE_PROJECT: 'shop' } });
  assert.equal(c.send.url, 'http://listener:8443');
  assert.equal(c.safety.maxDbTimePerSecondMs, 5);
  assert.equal(c.intervals.locksMs, 0);
  assert.equal(c.project, 'shop');
  assert.throws(
    () => loadConfig(pgAgentConfigSchema, { file: yamlFile('database: mysql://x\nintervals: { activityMs: 5 }\nsafety: { budget: 3 }\nlogs: { format: syslog }\n'), env: {} }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const text = err.problems.join('\n');
      assert.match(text, /database = "mysql:\/\/x": .*postgres:\/\//);
      assert.match(text, /intervals\.activityMs = 5: expected 0 \(off\) or at least 100 ms/);
      assert.match(text, /safety.*budget/);
      assert.match(text, /logs\.format = "syslog"/);
      return true;
    },
  );
});
