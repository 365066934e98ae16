import type { LimitedLog } from './rate-limited-log.js';

/** Stable code for an error, for counters and rate-limited logs (never the message itself). */
export function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return 'internal';
}

/** Wraps a timer or callback task so a failure is logged (rate-limited) instead of escaping the event loop. */
export function guarded(name: string, logLimited: LimitedLog, task: () => Promise<void>): () => void {
  return () => {
    task().catch((err: unknown) => {
      logLimited(`${name}:${errorCode(err)}`, { err, component: name }, `${name} failed; retrying next tick`);
    });
  };
}
