import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { spawnTracked } from './tracked-process.js';
import { waitFor } from './wait-for.js';

const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname; // dist/test/helpers -> dist/src/cli

export interface ListenerHandle {
  proc: ChildProcess;
  url: string;
  dataDir: string;
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** A free TCP port on 127.0.0.1, so a restarted listener can come back where the daemon expects it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * `bitville-apm listener` as a real process with a config file in `dir` (data in `dir/data`,
 * SQLite by default); ready once `<dataDir>/listener.json` names the new pid.
 */
export async function spawnListener(dir: string, config: Record<string, unknown>, args: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<ListenerHandle> {
  const dataDir = join(dir, 'data');
  const file = join(dir, 'listener.yaml');
  writeFileSync(file, stringify({ listen: '127.0.0.1:0', dataDir, ...config }));
  const { proc, output, exited } = spawnTracked(process.execPath, [CLI, 'listener', '--config', file, ...args], { env });
  const state = await Promise.race([
    waitFor(
      () => {
        const s = JSON.parse(readFileSync(join(dataDir, 'listener.json'), 'utf8')) as { pid: number; url: string };
        return s.pid === proc.pid ? s : null;
      },
      { timeoutMs: 15_000, what: 'listener.json of the new listener' },
    ),
    exited.then((code) => {
      throw new Error(`listener exited (${code}) before it was ready:\n${output()}`);
    }),
  ]);
  return { proc, url: state.url, dataDir, output, exited };
}
