import { nextCrashStreak, restartDelayMs, type RestartBackoffOptions } from '../daemon/lifecycle/restart-backoff.js';
import { clearReady, spawnRole, waitForReady, type ChildRole } from './child-role.js';

export interface RoleKeeperOptions<T extends { pid: number }> {
  /** "daemon" or "listener", for messages. */
  name: string;
  /** `bitville-apm <args>` */
  args: string[];
  logFile: string;
  /** Written by the role once it serves, naming its pid. */
  readyFile: string;
  /** Each time a (re)started child is ready. */
  onReady?: (info: T) => void;
  /** Where restart notices go (up's stderr). */
  notice: (line: string) => void;
  backoff?: RestartBackoffOptions;
}

export interface RoleKeeper<T> {
  /** Starts the first child; rejects if it exits before it is ready (a start error is the user's to fix). */
  start(): Promise<T>;
  /** Stops the current child with SIGTERM and stops restarting. Idempotent. */
  stop(): Promise<void>;
  /** The running child, if any (tests and `up` signal it). */
  current(): ChildRole | null;
  restarts(): number;
}

/**
 * Keeps one role of `up` running: a child that exits after it was ready is started again after
 * a doubling delay (the daemon supervisor's own worker backoff: 100 ms up to 10 s, reset after
 * 60 s of health), and the other role is not touched — the listener keeps serving the
 * dashboard while the daemon comes back, and the daemon spools while the listener does.
 */
export function createRoleKeeper<T extends { pid: number }>(o: RoleKeeperOptions<T>): RoleKeeper<T> {
  let child: ChildRole | null = null;
  let stopping = false;
  let streak = 0;
  let restarts = 0;
  let timer: NodeJS.Timeout | null = null;

  async function launch(): Promise<T> {
    clearReady(o.readyFile);
    const c = spawnRole(o.args, o.logFile);
    child = c;
    const startedAt = Date.now();
    void c.exited.then((code) => onExit(c, code, startedAt));
    const info = await waitForReady<T>(c, o.readyFile, o.logFile);
    o.onReady?.(info);
    return info;
  }

  function onExit(c: ChildRole, code: number | string, startedAt: number): void {
    if (stopping || child !== c) return;
    child = null;
    streak = nextCrashStreak(streak, Date.now() - startedAt, o.backoff);
    const delay = restartDelayMs(streak, o.backoff);
    restarts++;
    o.notice(`${o.name} exited unexpectedly (${code}); restarting it in ${delay} ms (restart ${restarts}; see ${o.logFile})`);
    timer = setTimeout(() => {
      timer = null;
      if (stopping) return;
      launch().then(
        () => o.notice(`${o.name} is back`),
        () => undefined, // it exited before it was ready: onExit has already scheduled the next try
      );
    }, delay);
  }

  return {
    start: launch,
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      const c = child;
      if (!c) return;
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGTERM');
      await c.exited;
    },
    current: () => child,
    restarts: () => restarts,
  };
}
