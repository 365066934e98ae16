import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isObj } from '../extract/fields.js';
import type { ListenerMetrics } from '../metrics.js';
import { principalOf, requireToken } from '../request-auth.js';
import type { Auth, Principal } from './auth.js';
import { contentCoding, decodeBody } from './decode-body.js';
import type { IngestService } from './ingest-service.js';
import type { ParsedLine } from './parse-lines.js';
import type { ParsePool } from './parse-pool.js';
import type { RateLimiter } from './rate-limiter.js';

export interface IngestRoutesOptions {
  auth: Auth;
  service: IngestService;
  /** Parses, extracts and compresses NDJSON batches off the event loop. */
  pool: ParsePool;
  limiter: RateLimiter;
  metrics: ListenerMetrics;
  /** Largest body after gunzip; the raw body limit is enforced by the HTTP server. */
  maxBodyBytes: number;
}

/** Seconds a daemon should wait before retrying when storage failed. */
const STORE_RETRY_AFTER_S = 5;

/**
 * POST /v1/ingest (NDJSON batches, DESIGN 7) and the single-object routes existing Bitville agents
 * use: /ingest/php, /api/profiling (alias) and /ingest/postgres.
 */
export function registerIngestRoutes(app: FastifyInstance, o: IngestRoutesOptions): void {
  const onRequest = requireToken(o.auth);

  app.post('/v1/ingest', { onRequest }, async (request, reply) => {
    const started = process.hrtime.bigint();
    const raw = rawBodyOf(request, o);
    const coding = contentCoding(headerOf(request, 'content-encoding'));
    if (coding.kind === 'bad_encoding') return fail(reply, o, '/v1/ingest', 400, { error: 'bad_encoding', message: coding.message });
    // A gzip body is gunzipped in the parse worker too, so the event loop only runs the transaction.
    const prepared = await o.pool.prepare(raw, coding.kind === 'gzip' ? { gunzipMaxBytes: o.maxBodyBytes } : {});
    switch (prepared.kind) {
      case 'ok':
        break;
      case 'too_large':
        return tooLarge(reply, o, '/v1/ingest');
      case 'bad_encoding':
        return fail(reply, o, '/v1/ingest', 400, { error: 'bad_encoding', message: prepared.message });
      case 'failed':
        return unavailable(request, reply, o, '/v1/ingest', new Error(prepared.message));
    }
    const parsed = prepared.prepared;
    if (!parsed.anyJson) return fail(reply, o, '/v1/ingest', 400, { error: 'not_ndjson', message: 'body is not NDJSON: expected one JSON object per line' });
    if (!admitted(request, reply, o, '/v1/ingest', principalOf(request), parsed.lines.length)) return reply;
    const outcome = await o.service.ingestPrepared(principalOf(request), parsed.lines, parsed.rollup);
    if (outcome.kind === 'unavailable') return unavailable(request, reply, o, '/v1/ingest', outcome.error);
    o.metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    o.metrics.ingestRequests.inc({ route: '/v1/ingest', status: '200' });
    return reply.code(200).send({ accepted: outcome.accepted, duplicates: outcome.duplicates, rejected: outcome.rejected });
  });

  const single = (route: string, as: 'auto' | 'activity') => async (request: FastifyRequest, reply: FastifyReply) => {
    const body = await bodyOf(request, reply, o, route);
    if (body === null) return reply;
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      return fail(reply, o, route, 400, { success: false, error: 'invalid_json', message: 'body is not valid JSON' });
    }
    if (!isObj(value)) return fail(reply, o, route, 400, { success: false, error: 'not_object', message: 'expected one JSON object' });
    const principal = principalOf(request);
    if (!admitted(request, reply, o, route, principal, 1)) return reply;
    const line: ParsedLine = { kind: 'object', line: 1, value, bytes: body };
    const outcome = await o.service.ingest(principal, [line], as);
    if (outcome.kind === 'unavailable') return unavailable(request, reply, o, route, outcome.error);
    const stored = outcome.results[0];
    if (!stored) return fail(reply, o, route, 403, { success: false, error: 'project_not_allowed', message: 'this token may not write that project' });
    o.metrics.ingestRequests.inc({ route, status: '200' });
    const id = stored.record.kind === 'profile' ? { correlation_id: stored.record.correlationId } : { source: stored.record.source };
    return reply.code(200).send({ success: true, row_id: stored.result.rowId, ...id, ...(stored.result.kind === 'duplicate' ? { duplicate: true } : {}) });
  };
  app.post('/ingest/php', { onRequest }, single('/ingest/php', 'auto'));
  app.post('/api/profiling', { onRequest }, single('/api/profiling', 'auto'));
  app.post('/ingest/postgres', { onRequest }, single('/ingest/postgres', 'activity'));
}

function rawBodyOf(request: FastifyRequest, o: IngestRoutesOptions): Buffer {
  const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  o.metrics.receivedBytes.inc(raw.length);
  return raw;
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function tooLarge(reply: FastifyReply, o: IngestRoutesOptions, route: string): FastifyReply {
  return fail(reply, o, route, 413, { error: 'body_too_large', message: `body is larger than ${o.maxBodyBytes} bytes after decompression` });
}

async function bodyOf(request: FastifyRequest, reply: FastifyReply, o: IngestRoutesOptions, route: string): Promise<Buffer | null> {
  const decoded = await decodeBody(rawBodyOf(request, o), headerOf(request, 'content-encoding'), o.maxBodyBytes);
  switch (decoded.kind) {
    case 'ok':
      return decoded.body;
    case 'too_large':
      tooLarge(reply, o, route);
      return null;
    case 'bad_encoding':
      fail(reply, o, route, 400, { error: 'bad_encoding', message: decoded.message });
      return null;
  }
}

function admitted(request: FastifyRequest, reply: FastifyReply, o: IngestRoutesOptions, route: string, principal: Principal, lines: number): boolean {
  const decision = o.limiter.take(principal.id, Math.max(1, lines));
  if (decision.kind === 'allowed') return true;
  o.metrics.rateLimited.inc();
  request.log.debug({ token: principal.id }, 'rate limited');
  reply.header('Retry-After', String(decision.retryAfterS));
  fail(reply, o, route, 429, { error: 'rate_limited', message: `too many lines for this token; retry after ${decision.retryAfterS} s`, retry_after_s: decision.retryAfterS });
  return false;
}

function unavailable(request: FastifyRequest, reply: FastifyReply, o: IngestRoutesOptions, route: string, error: unknown): FastifyReply {
  request.log.error({ err: error }, 'store unavailable');
  reply.header('Retry-After', String(STORE_RETRY_AFTER_S));
  return fail(reply, o, route, 503, { error: 'store_unavailable', message: 'storage is unavailable; retry later' });
}

function fail(reply: FastifyReply, o: IngestRoutesOptions, route: string, status: number, body: object): FastifyReply {
  o.metrics.ingestRequests.inc({ route, status: String(status) });
  return reply.code(status).send(body);
}
