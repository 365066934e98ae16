import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { LimitedLog } from '../../shared/telemetry/rate-limited-log.js';
import { errorBody, shown } from '../error-codes.js';
import { isObj } from '../extract/fields.js';
import type { Auth, Principal } from '../ingest-api/auth.js';
import { canAccess } from '../ingest-api/auth.js';
import type { ListenerMetrics } from '../metrics.js';
import { principalOf, requireToken } from '../request-auth.js';
import type { ProjectScope, StatsKind, Store } from '../store/store.js';
import { compareRequest, profileFrom } from './compare-request.js';
import { requestDatabase } from './db-correlation.js';
import { linkRequests, registerDbRoutes } from './db-routes.js';
import { windowOf, type Timed } from './route-kit.js';
import { omittedField, viewPayload, viewValue } from './payload-view.js';
import { bucketValue, percentile, round } from '../store/duration-buckets.js';
import { MAX_POINTS, controlCharacterParam, describeIssues, detailParams, keyParams, searchParams, windowParams } from './query-params.js';

export interface QueryRoutesOptions {
  auth: Auth;
  store: Store;
  metrics: ListenerMetrics;
  logLimited: LimitedLog;
  /** Stored payloads larger than this are not parsed for the detail (limits.maxLineBytes). */
  maxPayloadBytes: number;
  now?: () => number;
}

const DB_ACTIVITY_LIMIT = 200;
/** Read API (DESIGN 7): JSON, token-protected, a token reads only its projects. */
export function registerQueryRoutes(app: FastifyInstance, o: QueryRoutesOptions): void {
  const onRequest = requireToken(o.auth);
  const now = o.now ?? Date.now;

  const timed: Timed = <Q extends z.ZodType>(route: string, schema: Q, handler: (params: z.infer<Q>, principal: Principal, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const end = o.metrics.querySeconds.startTimer({ route });
      try {
        const control = controlCharacterParam(request.query);
        if (control !== null) return await reply.code(400).send(errorBody('bad_query', `parameter "${shown(control, 40)}" contains a control character`));
        const parsed = schema.safeParse(request.query);
        if (!parsed.success) return await reply.code(400).send(errorBody('bad_request', describeIssues(parsed.error)));
        return await handler(parsed.data, principalOf(request), request, reply);
      } catch (err) {
        o.metrics.storeErrors.inc({ operation: 'query' });
        o.logLimited(`query:${route}`, { err, route }, 'query failed');
        return await reply.code(503).send(errorBody('store_unavailable', 'storage is unavailable; retry later'));
      } finally {
        end();
      }
    };

  /** The projects a request may read: the one asked for (if allowed) or all of the token's. */
  function scopeFor(principal: Principal, project: string | undefined, reply: FastifyReply): ProjectScope | undefined {
    if (project === undefined) return principal.scope;
    if (canAccess(principal, project)) return [project];
    void reply.code(403).send(errorBody('forbidden', `this token may not read project "${shown(project, 100)}"`));
    return undefined;
  }

  app.get('/api/v1/projects', { onRequest }, timed('projects', detailParams, async (_p, principal) => {
    const items = await o.store.projects(principal.scope);
    return { items, next_cursor: null, total: items.length };
  }));

  app.get('/api/v1/requests', { onRequest }, timed('requests', searchParams, async (p, principal, _req, reply) => {
    const projects = scopeFor(principal, p.project, reply);
    if (projects === undefined) return reply;
    return o.store.search({
      projects,
      url: p.url,
      method: p.method,
      status: p.status,
      host: p.host,
      minMs: p.min_ms,
      maxMs: p.max_ms,
      from: p.from,
      to: p.to,
      q: p.q,
      cursor: p.cursor,
      limit: p.limit,
    });
  }));

  const notFound = (reply: FastifyReply, id: string) => reply.code(404).send(errorBody('not_found', `no request ${shown(id, 130)} in the projects this token may read`));

  app.get<{ Params: { id: string } }>('/api/v1/requests/:id', { onRequest }, timed('request', detailParams, async (p, principal, req, reply) => {
    const projects = scopeFor(principal, p.project, reply);
    if (projects === undefined) return reply;
    const id = (req.params as { id: string }).id;
    const row = await o.store.getRequest(projects, id);
    if (!row) return notFound(reply, id);
    const view = viewPayload(row.body, o.maxPayloadBytes); // parsed once: for the answer and for the comparison
    const own = view.kind === 'json' && isObj(view.value) ? profileFrom(view.value, row.body) : null;
    // The comparison's reads do not depend on the activity: both at once (one round trip fewer on PostgreSQL).
    const [activity, comparison] = await Promise.all([o.store.dbActivity(row.project, row.correlation_id, DB_ACTIVITY_LIMIT), compareRequest(o.store, row, own, o.maxPayloadBytes)]);
    const { body: _body, id: _rowId, ...summary } = row;
    const dbActivity = activity.map((a) => {
      const v = viewPayload(a.body, o.maxPayloadBytes);
      return { source: a.source, timestamp: a.timestamp, project: a.project, record: viewValue(v), ...omittedField(v, 'record') };
    });
    return {
      ...summary,
      payload: viewValue(view),
      ...omittedField(view, 'payload'),
      db_activity: dbActivity,
      database: await linkRequests(o.store, projects, requestDatabase(row.correlation_id, dbActivity)),
      comparison,
    };
  }));

  /** The stored bytes exactly as received, never parsed: also for a payload the detail had to leave out. */
  app.get<{ Params: { id: string } }>('/api/v1/requests/:id/payload', { onRequest }, timed('request_payload', detailParams, async (p, principal, req, reply) => {
    const projects = scopeFor(principal, p.project, reply);
    if (projects === undefined) return reply;
    const id = (req.params as { id: string }).id;
    const row = await o.store.getRequest(projects, id);
    if (!row) return notFound(reply, id);
    return reply.type('application/json; charset=utf-8').send(row.body);
  }));

  for (const kind of ['endpoints', 'queries', 'functions'] as const satisfies readonly StatsKind[]) {
    app.get(`/api/v1/stats/${kind}`, { onRequest }, timed(`stats_${kind}`, windowParams, async (p, principal, _req, reply) => {
      const projects = scopeFor(principal, p.project, reply);
      if (projects === undefined) return reply;
      const w = windowOf(p.from, p.to, now);
      if (typeof w === 'string') return reply.code(400).send(errorBody('bad_request', w));
      const items = await o.store.stats(kind, { projects, ...w }, p.limit);
      return { items, next_cursor: null, total: items.length, from: w.from, to: w.to };
    }));
  }

  app.get('/api/v1/stats/timeseries', { onRequest }, timed('stats_timeseries', windowParams, async (p, principal, _req, reply) => {
    const projects = scopeFor(principal, p.project, reply);
    if (projects === undefined) return reply;
    const w = windowOf(p.from, p.to, now);
    if (typeof w === 'string') return reply.code(400).send(errorBody('bad_request', w));
    const step = Math.max(p.step, Math.ceil((w.to - w.from) / MAX_POINTS / 60) * 60);
    const items = await o.store.timeseries({ projects, ...w }, step);
    return { items, next_cursor: null, total: items.length, step };
  }));

  /** One endpoint (or query, or function): latency histogram and p50/p95/p99 per step (dashboard endpoint view). */
  app.get('/api/v1/stats/key', { onRequest }, timed('stats_key', keyParams, async (p, principal, _req, reply) => {
    const projects = scopeFor(principal, p.project, reply);
    if (projects === undefined) return reply;
    const w = windowOf(p.from, p.to, now);
    if (typeof w === 'string') return reply.code(400).send(errorBody('bad_request', w));
    const step = Math.max(p.step, Math.ceil((w.to - w.from) / MAX_POINTS / 60) * 60);
    const d = await o.store.keyDetail(p.kind, p.key, { projects, ...w }, step);
    const h = d.histogram;
    return {
      kind: p.kind,
      key: p.key,
      from: w.from,
      to: w.to,
      step,
      count: h.total,
      p50_ms: percentile(h, 0.5),
      p95_ms: percentile(h, 0.95),
      p99_ms: percentile(h, 0.99),
      max_ms: round(h.maxMs),
      // Sparse log buckets (γ = 1.05): `ms` is the bucket's representative value (±2.5 %).
      histogram: [...h.counts.entries()].sort((a, b) => a[0] - b[0]).map(([b, count]) => ({ ms: Math.min(round(bucketValue(b)), round(h.maxMs)), count })),
      series: d.series,
    };
  }));

  registerDbRoutes(app, { store: o.store, onRequest, timed, scopeFor, now });
}
