/** One finding of `bitville-apm doctor`: what was checked, how it stands, and what to do. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  /** Short name, stable for scripts (`socket`, `inbox`, `fpm pool www`, `listener <url>`). */
  check: string;
  status: CheckStatus;
  /** What was found, as a sentence. */
  message: string;
  /** What to do about it; absent when the check passed. */
  fix?: string;
}

export const ok = (check: string, message: string): CheckResult => ({ check, status: 'ok', message });
export const warn = (check: string, message: string, fix: string): CheckResult => ({ check, status: 'warn', message, fix });
export const fail = (check: string, message: string, fix: string): CheckResult => ({ check, status: 'fail', message, fix });

const LABEL: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

/** `FAIL socket: /run/x.sock does not exist. Fix: start the daemon (...)`: one line per check. */
export function formatResult(r: CheckResult): string {
  return `${LABEL[r.status]} ${r.check}: ${r.message}${r.fix ? `. Fix: ${r.fix}` : ''}`;
}

export function summarize(results: readonly CheckResult[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0 };
  for (const r of results) counts[r.status]++;
  return counts;
}

/** 0 only when nothing failed; warnings count as failures only with --strict. */
export function exitCodeFor(results: readonly CheckResult[], strict: boolean): 0 | 1 {
  const c = summarize(results);
  return c.fail > 0 || (strict && c.warn > 0) ? 1 : 0;
}

/** 1,536 → "1.5 KiB": disk figures people can read. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i] ?? ''}`;
}
