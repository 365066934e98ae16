import { readFileSync } from 'node:fs';

/** A small PHP-shaped profile with a known id; `padBytes` makes it realistic in size. */
export function profile(id: string, padBytes = 200, project = 'shop'): Record<string, unknown> {
  return {
    correlation_id: id,
    project,
    timestamp: Date.now() / 1000,
    elapsed_ms: 742.5,
    request: { method: 'GET', uri: `/orders/${id}`, headers: { Host: 'shop.example' } },
    timing: { start_time: Date.now() / 1000 - 0.74, duration_ms: 742.5 },
    sql: { queries: [{ query: 'SELECT 1', duration_ms: 1.5 }], total_queries: 1 },
    server: { hostname: 'web-01', php_version: '8.2.0', sapi: 'fpm-fcgi' },
    custom: { pad: 'x'.repeat(padBytes) },
  };
}

export function ids(n: number, prefix = 'id'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(6, '0')}`);
}

export function lineFor(id: string, padBytes = 200): string {
  return JSON.stringify(profile(id, padBytes)) + '\n';
}

/** The payload exactly as existing Bitville PHP agents send it. */
export function fixture(name: 'php-agent-original-shape.json' | 'postgres-agent-activity.json'): Record<string, unknown> {
  const url = new URL(`../../../test/fixtures/${name}`, import.meta.url); // from dist/test/helpers
  return JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
}
