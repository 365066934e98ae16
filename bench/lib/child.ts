import { fork, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';

/** Helpers for child processes started by a benchmark. */

/** fork() a compiled module next to this one, with an IPC channel and the given env. */
export function forkModule(file: string, env: Record<string, string>, execArgv: string[] = []): ChildProcess {
  return track(
    fork(new URL(file, import.meta.url), [], {
      env: { ...process.env, ...env },
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
}

const started = new Set<ChildProcess>();
let cleanupInstalled = false;

/**
 * A benchmark that dies (an uncaught timeout, a crash) must not leave its daemons and load
 * generators running: every child it tracks is SIGKILLed when it exits. Forked helpers also
 * exit when their parent's IPC channel closes (exitWithParent).
 */
export function track(child: ChildProcess): ChildProcess {
  if (!cleanupInstalled) {
    cleanupInstalled = true;
    process.once('exit', () => {
      for (const c of started) c.kill('SIGKILL'); // only children still running are in the set
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(128 + constants.signals[signal])); // so 'exit' runs
  }
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

/** In a forked helper: no parent, no reason to live. */
export function exitWithParent(): void {
  process.on('disconnect', () => process.exit(0));
}

/** The next IPC message matching `accept`; rejects if the child exits or the timeout passes. */
export function nextMessage<T>(child: ChildProcess, accept: (m: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: unknown) => {
      if (accept(m as T)) done(null, m as T);
    };
    const onExit = (code: number | null, signal: string | null) => done(new Error(`${what}: exited early (code ${code}, signal ${signal})`));
    function done(err: Error | null, value?: T): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(value as T);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL after graceMs; resolves when the child has exited. */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
