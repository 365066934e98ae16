import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));

export interface ChildRole {
  proc: ChildProcess;
  exited: Promise<number | string>;
}

/** Runs `bitville-apm <args>` as a child whose output goes to `logFile`. */
export function spawnRole(args: string[], logFile: string): ChildRole {
  const log = createWriteStream(logFile, { flags: 'a' });
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.pipe(log);
  proc.stderr?.pipe(log);
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { proc, exited };
}

/**
 * Waits for a role's readiness file (`{pid, ...}` written once it serves) naming this child.
 * Fails fast if the child exits first, pointing at its log.
 */
export async function waitForReady<T extends { pid: number }>(role: ChildRole, readyFile: string, logFile: string, timeoutMs = 30_000): Promise<T> {
  let exitedWith: number | string | null = null;
  void role.exited.then((code) => (exitedWith = code));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const info = JSON.parse(readFileSync(readyFile, 'utf8')) as T;
      if (info.pid === role.proc.pid) return info;
    } catch {
      // not written yet
    }
    if (exitedWith !== null) throw new Error(`exited (${exitedWith}) before it was ready; see ${logFile}:\n${tail(logFile)}`);
    if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Removes a readiness file left by an earlier run, so only the new child's counts. */
export function clearReady(readyFile: string): void {
  rmSync(readyFile, { force: true });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-8).join('\n');
  } catch {
    return '';
  }
}
