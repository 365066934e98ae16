import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LimitedLog } from '../../shared/telemetry/rate-limited-log.js';
import { errorBody, type ListenerErrorCode } from '../error-codes.js';
import type { ListenerMetrics } from '../metrics.js';
import { principalOf, requireToken } from '../request-auth.js';
import type { Auth, Principal } from './auth.js';
import { contentCoding, decodeBody } from './decode-body.js';
import type { InflateGate } from './inflate-gate.js';
import type { IngestService } from './ingest-service.js';
import { lineErrorMessage } from './line-errors.js';
import { parseObject, type ParsedLine } from './parse-lines.js';
import type { ParsePool } from './parse-pool.js';
import type { RateLimiter } from './rate-limiter.js';

export interface IngestRoutesOptions {
  auth: Auth;
  service: IngestService;
  /** Parses, extracts and compresses NDJSON batches off the event loop. */
  pool: ParsePool;
  limiter: RateLimiter;
  metrics: ListenerMetrics;
  logLimited: LimitedLog;
  /** Largest body after gunzip; the raw body limit is enforced by the HTTP server. */
  maxBodyBytes: number;
  /** Largest single profile (one NDJSON line, or a single-object route's whole body) after gunzip. */
  maxLineBytes: number;
  /** Bounds gzip bodies inflating at once (inflate-gate.ts). */
  inflateGate: InflateGate;
}

/** Seconds a daemon should wait before retrying when storage failed. */
const STORE_RETRY_AFTER_S = 5;
/** Seconds to wait when every inflation slot is taken: one batch's time, not more. */
const BUSY_RETRY_AFTER_S = 1;

/**
 * POST /v1/ingest (NDJSON batches, DESIGN 7) and the single-object routes existing Bitville agents
 * use: /ingest/php, /api/profiling (alias) and /ingest/postgres.
 */
export function registerIngestRoutes(app: FastifyInstance, o: IngestRoutesOptions): void {
  const onRequest = requireToken(o.auth);

  app.post('/v1/ingest', { onRequest }, async (request, reply) => {
    const route = '/v1/ingest';
    const started = process.hrtime.bigint();
    const raw = rawBodyOf(request, o);
    const coding = contentCoding(headerOf(request, 'content-encoding'));
    if (coding.kind === 'bad_encoding') return fail(reply, o, route, 400, 'bad_encoding', coding.message);
    const gzip = coding.kind === 'gzip';
    if (gzip && !o.inflateGate.tryEnter()) return busy(reply, o, route);
    let prepared;
    try {
      // A gzip body is inflated in the parse worker too, as a stream, so the event loop only runs the transaction.
      prepared = await o.pool.prepare(raw, gzip ? { gunzipMaxBytes: o.maxBodyBytes } : {});
    } finally {
      if (gzip) o.inflateGate.leave();
    }
    switch (prepared.kind) {
      case 'ok':
        break;
      case 'too_large':
        return tooLarge(reply, o, route);
      case 'bad_encoding':
        return fail(reply, o, route, 400, 'bad_encoding', prepared.message);
      case 'failed':
        return unavailable(reply, o, route, new Error(prepared.message));
    }
    const parsed = prepared.prepared;
    if (!parsed.anyJson) return fail(reply, o, route, 400, 'not_ndjson', 'body is not NDJSON: expected one JSON object per line');
    if (!admitted(request, reply, o, route, principalOf(request), parsed.lines.length)) return reply;
    const outcome = await o.service.ingestPrepared(principalOf(request), parsed.lines, parsed.rollup);
    if (outcome.kind === 'unavailable') return unavailable(reply, o, route, outcome.error);
    o.metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    o.metrics.ingestRequests.inc({ route, status: '200' });
    return reply.code(200).send({ accepted: outcome.accepted, duplicates: outcome.duplicates, rejected: outcome.rejected });
  });

  const single = (route: string, as: 'auto' | 'activity') => async (request: FastifyRequest, reply: FastifyReply) => {
    const body = await singleBodyOf(request, reply, o, route);
    if (body === null) return reply;
    const parsed = parseObject(body);
    if (parsed.kind === 'rejected') {
      o.metrics.rejected.inc({ error_code: parsed.error });
      return fail(reply, o, route, 400, parsed.error, lineErrorMessage(parsed.error, o.maxLineBytes), { success: false });
    }
    const principal = principalOf(request);
    if (!admitted(request, reply, o, route, principal, 1)) return reply;
    const line: ParsedLine = { kind: 'object', line: 1, value: parsed.value, bytes: body };
    const outcome = await o.service.ingest(principal, [line], as);
    if (outcome.kind === 'unavailable') return unavailable(reply, o, route, outcome.error);
    const stored = outcome.results[0];
    if (!stored) return fail(reply, o, route, 403, 'project_not_allowed', 'this token may not write that project', { success: false });
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
  return fail(reply, o, route, 413, 'body_too_large', `body is larger than ${o.maxBodyBytes} bytes after decompression (limits.maxBodyBytes)`);
}

/** A single-object route's body is one profile: limits.maxLineBytes applies to all of it (413 `line_too_large`). */
async function singleBodyOf(request: FastifyRequest, reply: FastifyReply, o: IngestRoutesOptions, route: string): Promise<Buffer | null> {
  const raw = rawBodyOf(request, o);
  const coding = contentCoding(headerOf(request, 'content-encoding'));
  const gzip = coding.kind === 'gzip';
  if (gzip && !o.inflateGate.tryEnter()) {
    busy(reply, o, route);
    return null;
  }
  let decoded;
  try {
    decoded = await decodeBody(raw, coding, o.maxLineBytes);
  } finally {
    if (gzip) o.inflateGate.leave();
  }
  switch (decoded.kind) {
    case 'ok':
      return decoded.body;
    case 'too_large':
      o.metrics.rejected.inc({ error_code: 'line_too_large' });
      fail(reply, o, route, 413, 'line_too_large', lineErrorMessage('line_too_large', o.maxLineBytes), { success: false });
      return null;
    case 'bad_encoding':
      fail(reply, o, route, 400, 'bad_encoding', decoded.message, { success: false });
      return null;
  }
}

function admitted(request: FastifyRequest, reply: FastifyReply, o: IngestRoutesOptions, route: string, principal: Principal, lines: number): boolean {
  const decision = o.limiter.take(principal.id, Math.max(1, lines));
  if (decision.kind === 'allowed') return true;
  o.metrics.rateLimited.inc();
  request.log.debug({ token: principal.id }, 'rate limited');
  reply.header('Retry-After', String(decision.retryAfterS));
  fail(reply, o, route, 429, 'rate_limited', `too many lines for this token; retry after ${decision.retryAfterS} s`, { retry_after_s: decision.retryAfterS });
  return false;
}

function busy(reply: FastifyReply, o: IngestRoutesOptions, route: string): FastifyReply {
  o.metrics.inflateBusy.inc();
  o.logLimited('ingest:busy', { route }, 'gzip body refused: every inflation slot is taken (limits.maxInflatingBodies)');
  reply.header('Retry-After', String(BUSY_RETRY_AFTER_S));
  return fail(reply, o, route, 503, 'busy', `too many compressed bodies are being inflated; retry after ${BUSY_RETRY_AFTER_S} s`, { retry_after_s: BUSY_RETRY_AFTER_S });
}

function unavailable(reply: FastifyReply, o: IngestRoutesOptions, route: string, error: unknown): FastifyReply {
  o.logLimited('ingest:store_unavailable', { err: error, route }, 'store unavailable');
  reply.header('Retry-After', String(STORE_RETRY_AFTER_S));
  return fail(reply, o, route, 503, 'store_unavailable', 'storage is unavailable; retry later');
}

function fail(reply: FastifyReply, o: IngestRoutesOptions, route: string, status: number, code: ListenerErrorCode, message: string, extra: object = {}): FastifyReply {
  o.metrics.ingestRequests.inc({ route, status: String(status) });
  return reply.code(status).send(errorBody(code, message, extra));
}
