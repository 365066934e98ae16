import { fail, ok, warn, type CheckResult } from './check-result.js';

const START = 'start the daemon (systemctl start bitville-apm-daemon; its log: journalctl -u bitville-apm-daemon)';
/** Beyond this the listener's and this host's times disagree enough to misplace requests next to database activity. */
export const MAX_CLOCK_SKEW_S = 5;

function errorText(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'no answer in time';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** The daemon's /health: ok passes, starting and degraded warn, failing or no answer fail. */
export async function checkHealth(address: string, timeoutMs: number): Promise<CheckResult> {
  const url = `${address.startsWith('http') ? address : `http://${address}`}/health`;
  let doc: { status?: unknown; problems?: unknown };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    doc = (await res.json()) as typeof doc;
  } catch (err) {
    return fail('health', `no answer from ${url} (${errorText(err)})`, `${START}; the address is the daemon config's \`health:\``);
  }
  const problems = Array.isArray(doc.problems) && doc.problems.length > 0 ? ` (${doc.problems.map(String).join(', ')})` : '';
  const status = typeof doc.status === 'string' ? doc.status : 'unknown';
  if (status === 'ok') return ok('health', `${url}: ok`);
  if (status === 'starting') return warn('health', `${url}: starting`, 'run the doctor again in a few seconds');
  if (status === 'degraded') return warn('health', `${url}: degraded${problems}`, 'see `bitville-apm status` for the buffer, forwarder and circuit breaker');
  return fail('health', `${url}: ${status}${problems}`, 'see `bitville-apm status` and the daemon log (journalctl -u bitville-apm-daemon)');
}

export interface ListenerFinding {
  listener: CheckResult;
  /** Seconds this host is behind (negative) or ahead of the listener, when it answered with a Date. */
  skew: { lowS: number; highS: number } | null;
}

/**
 * An authenticated read (GET /api/v1/projects) at one forward URL: 200 means reachable with an
 * accepted token, 401 a refused token. The answer's Date header (whole seconds) also dates the
 * listener's clock: its true time lies in [Date, Date + 1 s) sometime between send and answer.
 */
export async function checkListener(base: string, token: string, timeoutMs: number): Promise<ListenerFinding> {
  const name = `listener ${base}`;
  const url = new URL('api/v1/projects', base.endsWith('/') ? base : `${base}/`).toString();
  const sent = Date.now();
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
  } catch (err) {
    return { listener: fail(name, `not reachable: GET ${url} failed (${errorText(err)})`, 'check forward.url, the listener (systemctl status bitville-apm-listener) and any firewall between'), skew: null };
  }
  const received = Date.now();
  const date = Date.parse(res.headers.get('date') ?? '');
  const skew = Number.isFinite(date) ? { lowS: (date - received) / 1000, highS: (date + 1000 - sent) / 1000 } : null;
  const ms = received - sent;
  if (res.status === 200) return { listener: ok(name, `reachable, token accepted (GET /api/v1/projects: 200 in ${ms} ms)`), skew };
  if (!token) return { listener: fail(name, `reachable, but forward.token is empty (HTTP ${res.status})`, "set forward.token to a token of the listener's `tokens:` map"), skew };
  if (res.status === 401) return { listener: fail(name, 'reachable, but the token is refused (HTTP 401)', "set forward.token to a token of the listener's `tokens:` map (the same string, no quotes or spaces)"), skew };
  return { listener: fail(name, `reachable, but GET /api/v1/projects answered HTTP ${res.status}`, 'is forward.url the listener itself (not a proxy or another service)?'), skew };
}

/** How far this host's clock is from the listener's, from the first listener that answered with a Date. */
export function checkClock(findings: readonly ListenerFinding[]): CheckResult {
  const f = findings.find((x) => x.skew !== null);
  if (!f?.skew) return warn('clock', 'not checked: no listener answered with a Date header', 'fix the listener check first');
  const { lowS, highS } = f.skew;
  // The smallest offset consistent with the answer: 0 when the interval contains it.
  const skewS = lowS > 0 ? lowS : highS < 0 ? highS : 0;
  const text = skewS === 0 ? 'within a second of the listener' : `${Math.abs(skewS).toFixed(1)} s ${skewS > 0 ? 'behind' : 'ahead of'} the listener`;
  if (Math.abs(skewS) > MAX_CLOCK_SKEW_S) {
    return fail('clock', `this host's clock is ${text} (${f.listener.check.slice('listener '.length)}), more than ${MAX_CLOCK_SKEW_S} s`, 'run NTP on both hosts (timedatectl set-ntp true, or chrony): request times and their database activity would not line up');
  }
  return ok('clock', `this host's clock is ${text}`);
}
