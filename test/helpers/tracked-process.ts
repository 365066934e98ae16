import { after } from 'node:test';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * Every process a test starts, so that a failed assertion leaves none behind: they hold sockets,
 * ports and files, and a live child keeps the test file's process (and so the whole run) from
 * ever finishing. Each is SIGKILLed when the test file's tests are done and, failing that, when
 * its process exits; one started `detached` takes its whole process group with it (a daemon's
 * worker, php-fpm's or `php -S`'s forked workers).
 */
const running = new Set<ChildProcess>();
const groups = new WeakSet<ChildProcess>();

function killAll(): void {
  for (const p of running) signal(p, 'SIGKILL');
}
after(killAll);
process.on('exit', killAll);

/** Sends `sig` to `p`, or to its process group when it was started detached. Never throws. */
export function signal(p: ChildProcess, sig: NodeJS.Signals): void {
  try {
    if (p.pid !== undefined && groups.has(p)) process.kill(-p.pid, sig);
    else p.kill(sig);
  } catch {
    // already gone
  }
}

/** Registers a process started elsewhere for the cleanup; `group`: it leads its own process group. */
export function track<T extends ChildProcess>(p: T, group = false): T {
  running.add(p);
  if (group) groups.add(p);
  p.once('exit', () => running.delete(p));
  return p;
}

export interface TrackedProcess {
  proc: ChildProcess;
  /** Its stdout and stderr so far, in the order they arrived. */
  output(): string;
  /** Resolves with the exit code, or the name of the signal that ended it. */
  exited: Promise<number | string>;
  /** `signal()` for this process (its group when detached). */
  kill(sig: NodeJS.Signals): void;
}

/** spawn() with stdout and stderr collected, tracked for the cleanup. Default stdio: no stdin, both outputs piped. */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions = {}): TrackedProcess {
  const proc = track(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options }), options.detached === true);
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  return { proc, output: () => out, exited, kill: (sig) => signal(proc, sig) };
}
