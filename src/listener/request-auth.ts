import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './error-codes.js';
import type { Auth, Principal } from './ingest-api/auth.js';

const principals = new WeakMap<FastifyRequest, Principal>();

/**
 * A route `onRequest` hook: answers 401 before the body is read, so an unauthenticated client
 * cannot make us buffer 64 MiB. The same token scheme guards reads and writes (DESIGN 7).
 */
export function requireToken(auth: Auth) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const result = auth.authenticate(request.headers.authorization);
    switch (result.kind) {
      case 'ok':
        principals.set(request, result.principal);
        return;
      case 'missing':
        await reply.code(401).header('WWW-Authenticate', 'Bearer').send(errorBody('unauthorized', 'missing bearer token (Authorization: Bearer <token>)'));
        return;
      case 'unknown':
        await reply.code(401).header('WWW-Authenticate', 'Bearer error="invalid_token"').send(errorBody('unauthorized', 'unknown token'));
        return;
    }
  };
}

/** The principal `requireToken` stored; a route without the hook is a programmer bug. */
export function principalOf(request: FastifyRequest): Principal {
  const p = principals.get(request);
  if (!p) throw new Error(`route ${request.url} has no requireToken hook`);
  return p;
}
