import type { DbOverview, DbOverviewPoint, DbTopBlocker } from '../../shared/protocol/db-api.js';
import { isObj, num, type Obj } from '../extract/fields.js';
import { sessionRef, type ActivityItem } from './db-correlation.js';

/**
 * The overview's database panel: per step, the average number of active sessions by
 * wait_event_type over the pg_stat_activity samples in it; and the sessions that blocked the
 * most others in the window (from pg_locks). Computed from the stored records at read time.
 */
export function dbOverview(items: readonly ActivityItem[], window: { from: number; to: number }, step: number, truncated: boolean, topN = 10): DbOverview {
  const points = new Map<number, { samples: number; sums: Map<string, number> }>();
  const blockers = new Map<string, DbTopBlocker & { waiters: Set<string>; requests: Set<string> }>();
  for (const a of items) {
    const data: Obj = isObj(a.record) && isObj(a.record.data) ? a.record.data : {};
    if (a.source === 'pg_stat_activity') {
      const t = Math.floor(a.timestamp / step) * step;
      const p = points.get(t) ?? { samples: 0, sums: new Map<string, number>() };
      p.samples++;
      const counts = isObj(data.by_wait_event_type) ? data.by_wait_event_type : countSessions(data.sessions);
      for (const [type, n] of Object.entries(counts)) {
        const v = num(n);
        if (v !== null) p.sums.set(type, (p.sums.get(type) ?? 0) + v);
      }
      points.set(t, p);
    } else if (a.source === 'pg_locks' && Array.isArray(data.waits)) {
      for (const w of data.waits.filter(isObj)) {
        const waiter = sessionRef(w);
        for (const h of (Array.isArray(w.blocked_by) ? w.blocked_by : []).filter(isObj).map(sessionRef)) {
          let b = blockers.get(h.session_key);
          if (!b) {
            b = { ...h, blocked_sessions: 0, blocked_requests: 0, max_wait_ms: null, first_seen: a.timestamp, last_seen: a.timestamp, waiters: new Set(), requests: new Set() };
            blockers.set(h.session_key, b);
          }
          b.last_seen = a.timestamp;
          b.waiters.add(waiter.session_key);
          if (waiter.correlation_id) b.requests.add(waiter.correlation_id);
          const waited = num(w.waiting_ms);
          if (waited !== null && (b.max_wait_ms === null || waited > b.max_wait_ms)) b.max_wait_ms = waited;
        }
      }
    }
  }
  const series: DbOverviewPoint[] = [...points.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([t, p]) => ({ t, samples: p.samples, by_wait_event_type: Object.fromEntries([...p.sums].map(([k, v]) => [k, Math.round((v / p.samples) * 100) / 100])) }));
  const top = [...blockers.values()]
    .map(({ waiters, requests, ...b }) => ({ ...b, blocked_sessions: waiters.size, blocked_requests: requests.size }))
    .sort((x, y) => y.blocked_sessions - x.blocked_sessions || (y.max_wait_ms ?? 0) - (x.max_wait_ms ?? 0))
    .slice(0, topN);
  return { from: window.from, to: window.to, step, series, blockers: top, truncated };
}

/** Records from agents that send no by_wait_event_type: count the active sessions listed. */
function countSessions(sessions: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!Array.isArray(sessions)) return out;
  for (const s of sessions.filter(isObj)) {
    if (s.state !== 'active') continue;
    const type = typeof s.wait_event_type === 'string' && s.wait_event_type !== '' ? s.wait_event_type : 'CPU';
    out[type] = (out[type] ?? 0) + 1;
  }
  return out;
}
