import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Principal } from '../ingest-api/auth.js';
import type { ProjectScope } from '../store/store.js';
import { viewPayload, viewValue } from './payload-view.js';
import { DEFAULT_WINDOW_S, MAX_WINDOW_S } from './query-params.js';

/** What every read route is built from (query-routes.ts, db-routes.ts). */

/** limits.maxLineBytes's default: nothing larger can be ingested. */
const DEFAULT_MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;

/** Wraps a handler: validates its query with `schema`, times it, answers errors as JSON. */
export type Timed = <Q extends z.ZodType>(
  route: string,
  schema: Q,
  handler: (params: z.infer<Q>, principal: Principal, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
) => (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
/** The projects a token may read for this request, or undefined once it has answered 403. */
export type ScopeFor = (principal: Principal, project: string | undefined, reply: FastifyReply) => ProjectScope | undefined;

export function windowOf(from: number | undefined, to: number | undefined, now: () => number): { from: number; to: number } | string {
  const t = to ?? now() / 1000;
  const f = from ?? t - DEFAULT_WINDOW_S;
  if (f >= t) return 'from must be before to';
  if (t - f > MAX_WINDOW_S) return `window longer than ${MAX_WINDOW_S} s`;
  return { from: f, to: t };
}

/**
 * A stored payload or record for an answer: parsed JSON, its text when it is not JSON, or null
 * when it is too deep or over `maxBytes` to parse safely (payload-view.ts).
 */
export function parseJson(body: Buffer, maxBytes: number = DEFAULT_MAX_PAYLOAD_BYTES): unknown {
  return viewValue(viewPayload(body, maxBytes));
}
