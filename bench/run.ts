/**
 * Runs every compiled benchmark (dist/bench/*.bench.js), each in a fresh Node process, one after
 * another, so one scenario's heap, JIT state and leftover handles cannot colour the next.
 *
 *   npm run bench                          all scenarios
 *   npm run bench -- --only ingest         one scenario (name without .bench.js; repeatable)
 *   npm run bench -- --only ingest --messages 5000 --rounds 1   other arguments go to the scenario
 *
 * Exits non-zero if any scenario fails.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function splitArgs(argv: string[]): { only: string[]; rest: string[] } {
  const only: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--only') {
      const v = argv[++i];
      if (!v) throw new Error('--only needs a benchmark name');
      only.push(...v.split(','));
    } else if (a.startsWith('--only=')) only.push(...a.slice('--only='.length).split(','));
    else rest.push(a);
  }
  return { only, rest };
}

function runFile(file: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: 'inherit' });
    child.on('error', () => resolve(1));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  const { only, rest } = splitArgs(process.argv.slice(2));
  const all = readdirSync(here)
    .filter((f) => f.endsWith('.bench.js'))
    .sort();
  const name = (f: string) => basename(f, '.bench.js');
  const unknown = only.filter((o) => !all.some((f) => name(f) === o));
  if (unknown.length > 0) {
    console.error(`no benchmark named ${unknown.join(', ')}; have: ${all.map(name).join(', ') || '(none)'}`);
    return 2;
  }
  const chosen = only.length > 0 ? all.filter((f) => only.includes(name(f))) : all;
  const failed: string[] = [];
  for (const f of chosen) {
    console.log(`\n### ${name(f)}`);
    const started = Date.now();
    const code = await runFile(join(here, f), rest);
    console.log(`### ${name(f)}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (code !== 0) failed.push(name(f));
  }
  if (failed.length > 0) console.error(`\nfailed: ${failed.join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
