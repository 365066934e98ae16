/** `php -l` on every PHP file we ship or serve, and the client loads twice without a redeclaration. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLIENT_DIR, REPO, phpMissing } from './php-harness.js';

function phpFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? phpFiles(path) : name.endsWith('.php') ? [path] : [];
  });
}

test('every PHP file of the client and the test app passes php -l', { skip: phpMissing() }, () => {
  const files = [...phpFiles(CLIENT_DIR), ...phpFiles(join(REPO, 'test', 'php-app'))];
  assert.ok(files.length >= 8, `found ${files.length} files`);
  for (const f of files) {
    const r = spawnSync('php', ['-l', f], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${f}:\n${r.stdout}${r.stderr}`);
  }
});

test('the client in a CLI script prints nothing and keeps the exit code, loaded and used every which way', { skip: phpMissing() }, () => {
  const script = [
    `require_once ${JSON.stringify(join(CLIENT_DIR, 'bitville-apm.php'))};`,
    `require_once ${JSON.stringify(join(CLIENT_DIR, 'bitville-apm.php'))};`,
    `$db = new Bitville\\Apm\\Pdo('sqlite::memory:');`,
    `$db->exec('CREATE TABLE t (a)'); $st = $db->prepare('INSERT INTO t VALUES (?)'); $st->execute([1]);`,
    `bitville_apm_sql('SELECT 1', 1.5); bitville_apm_context('k', 'v');`,
    `$l = new Bitville\\Apm\\PhalconDbListener(); $c = new class { function getSQLStatement() { return 'SELECT 2'; } function getType() { return 'mysql'; } };`,
    `$l->beforeQuery(null, $c); $l->afterQuery(null, $c);`,
    `echo count(Bitville\\Apm\\Agent::$queries), ' ', bitville_apm_pg_application_name() === 'bitville-' . bitville_apm_correlation_id() ? 'ok' : 'bad';`,
    `echo ' ', implode(',', array_map(function ($q) { return $q['driver'] ?? '-'; }, Bitville\\Apm\\Agent::$queries));`,
    `exit(3);`,
  ].join('\n');
  const r = spawnSync('php', ['-d', 'display_errors=1', '-d', 'error_reporting=-1', '-r', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, BITVILLE_APM_PROFILING_THRESHOLD_MS: '0', BITVILLE_APM_DAEMON_SOCKET_PATH: '/nonexistent/d.sock', BITVILLE_APM_INBOX_PATH: '/proc/nope' },
  });
  assert.equal(r.stdout, '4 ok sqlite,sqlite,-,mysql', 'only the script printed; 4 queries: CREATE, prepared INSERT (each with the PDO driver), manual, Phalcon (its adapter type)');
  assert.equal(r.stderr, '');
  assert.equal(r.status, 3, 'exit code kept although the send failed everywhere');
});
