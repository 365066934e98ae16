import { createHash, timingSafeEqual } from 'node:crypto';
import type { ProjectScope } from '../store/store.js';

export type AuthResult =
  | { kind: 'ok'; principal: Principal }
  | { kind: 'missing' }
  | { kind: 'unknown' };

export interface Principal {
  /** Stable, non-secret name for logs and rate limiting: a hash prefix of the token. */
  id: string;
  /** Projects this token may write and read; null = all ("*"). */
  scope: ProjectScope;
}

export interface Auth {
  authenticate(authorization: string | undefined): AuthResult;
}

export function canAccess(principal: Principal, project: string): boolean {
  return principal.scope === null || principal.scope.includes(project);
}

export interface AuthOptions {
  /** token -> projects ("*" = all), as in listener.yaml. */
  tokens: Readonly<Record<string, readonly string[]>>;
  /** Requests without a token get access to every project (`--insecure-dev`). */
  insecureDev: boolean;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Bearer tokens -> projects. Tokens are compared as SHA-256 digests with timingSafeEqual, so the
 * time a guess takes says nothing about how close it was.
 */
export function createAuth(options: AuthOptions): Auth {
  const entries = Object.entries(options.tokens).map(([token, projects]) => {
    const d = digest(token);
    const principal: Principal = { id: d.toString('hex').slice(0, 12), scope: projects.includes('*') ? null : [...projects] };
    return { d, principal };
  });
  const devPrincipal: Principal = { id: 'insecure-dev', scope: null };
  return {
    authenticate(header) {
      const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!m?.[1]) return options.insecureDev && header === undefined ? { kind: 'ok', principal: devPrincipal } : header === undefined ? { kind: 'missing' } : { kind: 'unknown' };
      const d = digest(m[1]);
      let found: Principal | null = null;
      for (const e of entries) if (timingSafeEqual(e.d, d)) found = e.principal;
      return found ? { kind: 'ok', principal: found } : { kind: 'unknown' };
    },
  };
}
