// Runs every compiled test file with Node's test runner. Node 20 has no glob support in
// `node --test`, so the file list is built here. Unit tests run in parallel; e2e tests start
// whole processes and drive load, so they run one file at a time to stay deterministic on 2 cores.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out.sort();
}

const filter = process.argv.slice(2);
const all = [...findTests('dist/src'), ...findTests('dist/test')].filter(
  (f) => filter.length === 0 || filter.some((part) => f.includes(part)),
);
if (all.length === 0) {
  console.error('no test files matched', filter);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
// A test that hangs fails after this long instead of holding CI until its own deadline, and a
// file whose tests are done exits even if something it started still holds the event loop.
const timeoutMs = process.env.TEST_TIMEOUT_MS ?? '240000';
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`, '--test-force-exit', '--test-reporter=spec', ...all],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
