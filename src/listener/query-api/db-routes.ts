import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { z } from 'zod';
import type { DbSessionRef, LinkedRequest, RequestDatabase } from '../../shared/protocol/db-api.js';
import type { ProjectScope, Store } from '../store/store.js';
import { sessionPage, type ActivityItem } from './db-correlation.js';
import { dbOverview } from './db-overview.js';
import { parseJson, windowOf, type ScopeFor, type Timed } from './route-kit.js';

const SESSION_RECORDS_LIMIT = 2_000;
/** Records read for one overview: an hour of 1 s activity samples plus lock records. */
const OVERVIEW_RECORDS_LIMIT = 7_200;
const MAX_LINKED_LOOKUPS = 50;

const sessionParams = z.object({ project: z.string().trim().min(1).max(2000) });
const overviewParams = z.object({
  project: z.string().trim().min(1).max(2000).optional(),
  from: z.coerce.number().finite().optional(),
  to: z.coerce.number().finite().optional(),
  step: z.coerce.number().int().min(60).max(86_400).default(60),
  limit: z.coerce.number().int().min(1).max(100).default(10),
});

/** Adds `request` (the PHP request behind it, when stored) to each session reference; at most 50 lookups. */
export async function linkRequests(store: Store, projects: ProjectScope, db: RequestDatabase): Promise<RequestDatabase> {
  const cache = new Map<string, LinkedRequest | null>();
  const link = async (s: DbSessionRef): Promise<DbSessionRef> => {
    if (!s.correlation_id) return { ...s, request: null };
    if (!cache.has(s.correlation_id) && cache.size < MAX_LINKED_LOOKUPS) {
      const row = await store.getRequest(projects, s.correlation_id);
      cache.set(s.correlation_id, row ? { correlation_id: row.correlation_id, method: row.method, url: row.url, duration_ms: row.duration_ms, timestamp: row.timestamp } : null);
    }
    return { ...s, request: cache.get(s.correlation_id) ?? null };
  };
  const blockers = await Promise.all(db.blockers.map(link));
  const byKey = new Map(blockers.map((b) => [b.session_key, b]));
  return {
    ...db,
    blockers,
    blocked: await Promise.all(db.blocked.map(link)),
    locks: db.locks.map((l) => ({ ...l, held_by: l.held_by.map((h) => byKey.get(h.session_key) ?? h) })),
  };
}

/** Read API for database correlation (docs/listener.md): a blocking session's page and the overview's database panel. */
export function registerDbRoutes(app: FastifyInstance, o: { store: Store; onRequest: onRequestHookHandler; timed: Timed; scopeFor: ScopeFor; now: () => number }): void {
  const { onRequest, timed, scopeFor } = o;

  app.get<{ Params: { key: string } }>('/api/v1/db/sessions/:key', { onRequest }, timed('db_session', sessionParams, async (p, principal, req, reply) => {
    const projects = scopeFor(principal, p.project, reply);
    if (projects === undefined) return reply;
    const key = (req.params as { key: string }).key;
    if (!/^pg:\d{1,10}:\d{1,12}$/.test(key)) return reply.code(400).send({ error: 'bad_request', message: 'a session key looks like pg:<pid>:<backend_start unix seconds>' });
    const items: ActivityItem[] = (await o.store.dbActivity(p.project, key, SESSION_RECORDS_LIMIT)).map((a) => ({ source: a.source, timestamp: a.timestamp, record: parseJson(a.body) }));
    const page = sessionPage(key, items);
    if (!page) return reply.code(404).send({ error: 'not_found', message: `session ${key} blocked nobody in project ${p.project}` });
    const linked = await linkRequests(o.store, projects, { waits: [], locks: [], log_events: [], blockers: [page.session], blocked: page.blocked.map((b) => b.waiter) });
    return { ...page, session: linked.blockers[0] ?? page.session, blocked: page.blocked.map((b, i) => ({ ...b, waiter: linked.blocked[i] ?? b.waiter })) };
  }));

  app.get('/api/v1/db/overview', { onRequest }, timed('db_overview', overviewParams, async (p, principal, _req, reply) => {
    const projects = scopeFor(principal, p.project, reply);
    if (projects === undefined) return reply;
    const w = windowOf(p.from, p.to, o.now);
    if (typeof w === 'string') return reply.code(400).send({ error: 'bad_request', message: w });
    const rows = await o.store.activityInWindow({ projects, ...w }, ['pg_stat_activity', 'pg_locks'], OVERVIEW_RECORDS_LIMIT);
    const items: ActivityItem[] = rows.map((a) => ({ source: a.source, timestamp: a.timestamp, record: parseJson(a.body) }));
    return dbOverview(items, w, p.step, rows.length >= OVERVIEW_RECORDS_LIMIT, p.limit);
  }));
}
