// Every call to the listener's read API goes through here, with the session's bearer token.
import type { Comparison } from '../../../src/shared/protocol/read-api';
import type { RequestDatabase } from '../../../src/shared/protocol/db-api';

export type { Comparison, Difference, SeriesPoint, StatsRow } from '../../../src/shared/protocol/read-api';

const TOKEN_KEY = 'bitville.token';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function setToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type Params = Record<string, string | number | undefined | null>;

export function query(params: Params): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export async function api<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
  const token = getToken();
  let res: Response;
  try {
    res = await fetch(`${path}${query(params)}`, { headers: token ? { Authorization: `Bearer ${token}` } : {}, signal: signal ?? null });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'the listener did not answer (network error)');
  }
  const body = (await res.json().catch(() => null)) as { message?: string } | null;
  if (!res.ok) {
    if (res.status === 401) window.dispatchEvent(new CustomEvent('bitville:unauthorized'));
    throw new ApiError(res.status, body?.message ?? `HTTP ${res.status}`);
  }
  return body as T;
}

// ---- answer shapes (docs/listener.md, Read API) ----
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
  total: number;
  total_capped?: boolean;
}
export interface Project {
  project: string;
  first_seen: number;
  last_seen: number;
}
export interface RequestSummary {
  correlation_id: string;
  project: string;
  timestamp: number;
  method: string;
  url: string;
  status: number | null;
  duration_ms: number;
  host: string;
  sql_count: number;
  sql_ms: number;
}
export interface RequestDetail extends RequestSummary {
  endpoint: string;
  source?: string;
  payload: unknown;
  db_activity: { source: string; timestamp: number; project: string; record: unknown }[];
  /** What the Postgres agent saw of this request's session (older listeners: absent). */
  database?: RequestDatabase;
  comparison: Comparison;
}
export interface KeyDetail {
  key: string;
  from: number;
  to: number;
  step: number;
  count: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  max_ms: number;
  histogram: { ms: number; count: number }[];
  series: { t: number; count: number; p50_ms: number | null; p95_ms: number | null; p99_ms: number | null }[];
}
