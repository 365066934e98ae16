import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * The daemon's two long-lived processes load only the libraries their job needs (issue 10): each
 * library costs RSS on every web server for as long as the daemon runs (zod alone ~9 MB per
 * worker, measured). This walks the compiled import graph, static and literal dynamic imports,
 * from each process's entry, so a helper imported from the wrong module fails here.
 */

const IMPORT = /(?:^|;|\s)(?:import|export)\s(?!type\b)[^'";]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** `skip`: modules (file names) the walk does not enter, e.g. a role the process loads only when it runs it. */
function packagesLoadedFrom(entry: string, skip: readonly string[] = []): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file) || skip.some((name) => file.endsWith(`/${name}`))) return;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? '';
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec));
    }
  };
  visit(fileURLToPath(new URL(entry, import.meta.url)));
  return packages;
}

test('the worker loads pino, prom-client and cockatiel, and no schema, CLI or HTTP framework library', () => {
  assert.deepEqual([...packagesLoadedFrom('./worker-entry.js')].sort(), ['cockatiel', 'pino', 'prom-client']);
});

test('the supervisor loads only its logger beyond the CLI parser', () => {
  // one-process.js is imported only when systemd passed the socket: then there is no supervisor.
  assert.deepEqual([...packagesLoadedFrom('../../cli/daemon-run.js', ['one-process.js'])].sort(), ['pino']);
});

test('the socket-activated daemon, one process, loads what a worker loads and nothing more', () => {
  assert.deepEqual([...packagesLoadedFrom('../../cli/daemon-run.js')].sort(), ['cockatiel', 'pino', 'prom-client']);
});

test('the walk sees a package imported by a module the entry imports', () => {
  // The config loader, which the supervisor runs in a child process, does load the schema library.
  assert.ok(packagesLoadedFrom('../../cli/daemon-config-load.js').has('zod'));
});
