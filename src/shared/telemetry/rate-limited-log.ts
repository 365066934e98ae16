import type { Logger } from 'pino';

export type LimitedLog = (code: string, fields: object, msg: string) => void;

/**
 * One warning per code per `everyMs`; the next line says how many were suppressed meanwhile.
 * A hostile client sending garbage in a loop must not turn into a disk-filling log.
 */
export function rateLimitedLog(log: Logger, everyMs = 10_000, now = Date.now): LimitedLog {
  const seen = new Map<string, { at: number; suppressed: number }>();
  return (code, fields, msg) => {
    const s = seen.get(code);
    if (s && now() - s.at < everyMs) {
      s.suppressed++;
      return;
    }
    log.warn({ ...fields, error_code: code, suppressed: s?.suppressed ?? 0 }, msg);
    seen.set(code, { at: now(), suppressed: 0 });
  };
}
