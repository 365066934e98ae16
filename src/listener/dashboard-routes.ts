import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface DashboardRoutesOptions {
  /** The built dashboard (vite output). Default: dist/dashboard next to the compiled listener. */
  dir?: string;
}

/** Client-side routes of the single-page app: each answers index.html and the app routes itself. */
export const DASHBOARD_PAGES = ['/', '/overview', '/search', '/endpoint', '/requests/*'] as const;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** Everything the dashboard may load comes from us: no CDN, works air-gapped. */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

interface Asset {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
  immutable: boolean;
}

/**
 * Serves the built dashboard from memory. The file set is read once at start (a few hundred KB):
 * only names that exist in the build can be answered, so no request path ever reaches the
 * filesystem and `..` tricks have nothing to work on. Hashed assets are cached for a year;
 * index.html is revalidated so a new build shows up at once. Public like /health: the data
 * behind it needs a token, the app itself does not.
 */
export function registerDashboardRoutes(app: FastifyInstance, o: DashboardRoutesOptions = {}): void {
  const dir = o.dir ?? new URL('../../dashboard/', import.meta.url).pathname; // dist/src/listener -> dist/dashboard
  const assets = loadAssets(dir);
  const index = assets.get('index.html');

  const send = (request: FastifyRequest, reply: FastifyReply, a: Asset) => {
    void reply.header('Content-Type', a.type).header('ETag', a.etag).header('X-Content-Type-Options', 'nosniff').header('Vary', 'Accept-Encoding');
    void reply.header('Cache-Control', a.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (a.type.startsWith('text/html')) void reply.header('Content-Security-Policy', CSP).header('Referrer-Policy', 'no-referrer');
    if (request.headers['if-none-match'] === a.etag) return reply.code(304).send();
    if (a.gzip && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) return reply.header('Content-Encoding', 'gzip').send(a.gzip);
    return reply.send(a.body);
  };

  const page = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!index) return reply.code(503).send({ error: 'dashboard_not_built', message: 'the dashboard is not built (no index.html next to the listener); run `npm run build`' });
    return send(request, reply, index);
  };
  for (const path of DASHBOARD_PAGES) app.get(path, page);

  app.get('/assets/*', async (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    const a = assets.get(`assets/${name}`);
    if (!a) return reply.code(404).send({ error: 'not_found', message: `no dashboard asset ${name}` });
    return send(request, reply, a);
  });
}

function loadAssets(dir: string): Map<string, Asset> {
  const out = new Map<string, Asset>();
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const file = join(d, name);
      if (statSync(file).isDirectory()) {
        walk(file);
        continue;
      }
      const rel = relative(dir, file).split(sep).join('/');
      const body = readFileSync(file);
      const type = TYPES[extname(name)] ?? 'application/octet-stream';
      const compressible = /^(text\/|image\/svg|application\/json)/.test(type) && body.length > 512;
      out.set(rel, {
        body,
        gzip: compressible ? gzipSync(body, { level: 9 }) : null,
        type,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        immutable: rel.startsWith('assets/'),
      });
    }
  };
  walk(dir);
  return out;
}
