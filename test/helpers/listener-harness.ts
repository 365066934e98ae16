import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { listenerConfigSchema } from '../../src/shared/config/listener-config.js';
import { loadConfig } from '../../src/shared/config/load-config.js';
import { createLogger } from '../../src/shared/telemetry/logger.js';
import { startListener, type RunningListener } from '../../src/listener/main.js';

/** Tokens every listener test uses: A writes project-a and myproject (the fixtures' project), B project-b. */
export const TOKENS = { 'token-a': ['project-a', 'myproject'], 'token-b': ['project-b'], 'token-all': ['*'] } as const;

export interface TestListener extends RunningListener {
  dir: string;
  post(path: string, body: string | Buffer, o?: { token?: string | null; gzip?: boolean; headers?: Record<string, string> }): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }>;
  get(path: string, token?: string | null): Promise<{ status: number; json: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** A real listener on 127.0.0.1 port 0 over a real SQLite file in a fresh temp dir. */
export async function startTestListener(overrides: Record<string, unknown> = {}): Promise<TestListener> {
  const dir = await mkdtemp(join(tmpdir(), 'bitville-listener-'));
  const config = loadConfig(listenerConfigSchema, {
    env: {},
    overrides: { listen: '127.0.0.1:0', dataDir: dir, tokens: TOKENS, log: { level: 'silent' }, ...overrides },
  });
  const running = await startListener(config, createLogger({ level: 'silent', format: 'json' }));
  const auth = (token: string | null | undefined): Record<string, string> => (token === null ? {} : { Authorization: `Bearer ${token ?? 'token-a'}` });
  return {
    ...running,
    dir,
    async post(path, body, o = {}) {
      const raw = typeof body === 'string' ? Buffer.from(body) : body;
      const res = await fetch(`${running.url}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-ndjson', ...auth(o.token), ...(o.gzip ? { 'Content-Encoding': 'gzip' } : {}), ...o.headers },
        body: o.gzip ? gzipSync(raw) : raw,
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
    },
    async get(path, token) {
      const res = await fetch(`${running.url}${path}`, { headers: auth(token) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    },
    async close() {
      await running.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Fixture file bytes exactly as committed (test/fixtures, from dist/test/helpers). */
export function fixtureText(name: 'php-agent-original-shape.json' | 'postgres-agent-activity.json'): string {
  return readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url), 'utf8');
}

export function ndjson(objects: readonly unknown[]): string {
  return objects.map((o) => JSON.stringify(o)).join('\n') + '\n';
}

/** A profile in the "other" variant: request.uri, sql.queries[].query/duration_ms, sql.total_queries. */
export function variantProfile(o: {
  id: string;
  project?: string;
  uri?: string;
  method?: string;
  ms?: number;
  ts?: number;
  status?: number;
  host?: string;
  queries?: { query: string; duration_ms: number }[];
  functions?: { name: string; wall_time_ms: number; calls?: number }[];
}): Record<string, unknown> {
  const queries = o.queries ?? [{ query: 'SELECT * FROM users WHERE id = 7', duration_ms: 2 }];
  return {
    correlation_id: o.id,
    project: o.project ?? 'project-a',
    timestamp: o.ts ?? Date.now() / 1000,
    elapsed_ms: o.ms ?? 600,
    threshold_ms: 500,
    request: { method: o.method ?? 'GET', uri: o.uri ?? '/products/42', query_string: '' },
    response: { status_code: o.status ?? 200 },
    timing: { start_time: o.ts ?? Date.now() / 1000, duration_ms: o.ms ?? 600 },
    sql: { queries, total_queries: queries.length, total_duration_ms: queries.reduce((s, q) => s + q.duration_ms, 0) },
    xhprof: o.functions ? { profiling: { top_functions: o.functions.map((f) => ({ calls: 1, ...f })) } } : null,
    server: { hostname: o.host ?? 'web-01', php_version: '8.2.0', sapi: 'fpm-fcgi' },
  };
}
