import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { MAX_CORRELATION_ID_CHARS } from '../shared/protocol/json-limits.js';
import type { LimitedLog } from '../shared/telemetry/rate-limited-log.js';
import { errorBody, shown, type ErrorBody, type ListenerErrorCode } from './error-codes.js';
import type { ListenerMetrics } from './metrics.js';

/**
 * Longest path parameter (a correlation id in /api/v1/requests/:id) the router accepts: an id of
 * MAX_CORRELATION_ID_CHARS characters percent-encoded as UTF-8 is at most 9 characters per
 * character. Longer is answered 414 `uri_too_long`; ingest refuses such ids (`id_too_long`), so no
 * stored request is out of reach.
 */
export const MAX_PARAM_LENGTH = MAX_CORRELATION_ID_CHARS * 9;

/**
 * Answers that Fastify or Node would otherwise write themselves (bad percent-encoding, a too long
 * path parameter, a malformed request, a header overflow, a request timeout) in the listener's
 * `{error, message}` shape with a code from error-codes.ts.
 */
export function errorServerOptions(): Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler' | 'routerOptions' | 'return503OnClosing'> {
  return {
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Our own onRequest hook answers while stopping (registerErrorHandlers), in our shape.
    return503OnClosing: false,
    frameworkErrors,
    clientErrorHandler(error: Error & { code?: string }, socket: Socket) {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      const [status, body] = clientError(error.code);
      const text = JSON.stringify(body);
      if (socket.writable) {
        socket.write(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
      }
      socket.destroy();
    },
  };
}

function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_BAD_URL') return void reply.code(400).send(errorBody('bad_request', 'the URL is not valid (bad percent-encoding)'));
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return void reply.code(414).send(errorBody('uri_too_long', `a path segment is longer than ${MAX_PARAM_LENGTH} characters`));
  return void reply.code(500).send(errorBody('internal', 'internal error; the cause was logged'));
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

function clientError(code: string | undefined): [number, ErrorBody] {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, errorBody('request_timeout', 'the request did not arrive in time')];
  if (code === 'HPE_HEADER_OVERFLOW') return [431, errorBody('headers_too_large', 'the request line and headers are larger than the server accepts (16 KiB)')];
  return [400, errorBody('bad_request', 'the request is not valid HTTP')];
}

export interface ErrorHandlerOptions {
  maxBodyBytes: number;
  metrics: ListenerMetrics;
  logLimited: LimitedLog;
  /** True once the listener is stopping: new requests are answered 503 `shutting_down`. */
  stopping(): boolean;
}

const INGEST_PREFIXES = ['/v1/ingest', '/ingest/', '/api/profiling'];

/**
 * The error handler (every throw and every Fastify error of every route), the 404 handler and
 * the stopping answer. A 5xx never carries the error's own text: it is logged, rate-limited,
 * and the client gets a stable code and sentence.
 */
export function registerErrorHandlers(app: FastifyInstance, o: ErrorHandlerOptions): void {
  app.addHook('onRequest', async (_request, reply) => {
    if (!o.stopping()) return;
    await reply.code(503).header('Connection', 'close').header('Retry-After', '5').send(errorBody('shutting_down', 'the listener is stopping; retry shortly'));
  });

  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    const [code, message] = describe(status, err, o.maxBodyBytes);
    if (status >= 500) o.logLimited(`http:${code}`, { err, method: request.method, url: shown(request.url) }, 'request failed');
    if (INGEST_PREFIXES.some((p) => request.url.startsWith(p))) {
      o.metrics.ingestRequests.inc({ route: request.routeOptions.url ?? 'unknown', status: String(status) });
    }
    return reply.code(status >= 500 ? 500 : status).send(errorBody(code, message));
  });

  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody('not_found', `no route ${request.method} ${shown(request.url)}`)));
}

/** A 4xx from Fastify (its messages are written for clients) or anything else as 500 `internal`. */
function describe(status: number, err: FastifyError, maxBodyBytes: number): [ListenerErrorCode, string] {
  if (status >= 500) return ['internal', 'internal error; the cause was logged'];
  switch (status) {
    case 401:
      return ['unauthorized', 'missing or unknown bearer token'];
    case 403:
      return ['forbidden', 'this token may not do that'];
    case 404:
      return ['not_found', 'not found'];
    case 408:
      return ['request_timeout', 'the request did not arrive in time'];
    case 413:
      return ['body_too_large', `body is larger than ${maxBodyBytes} bytes (limits.maxBodyBytes)`];
    case 414:
      return ['uri_too_long', 'the URL is too long'];
    case 429:
      return ['rate_limited', 'too many requests; retry later'];
    case 431:
      return ['headers_too_large', 'the request headers are too large'];
  }
  const fastifyOwn = typeof err.code === 'string' && err.code.startsWith('FST_');
  return ['bad_request', fastifyOwn ? shown(err.message) : 'the request is not valid'];
}
