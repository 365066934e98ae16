import { variantProfile } from './listener-harness.js';

const URIS = ['/products/42', '/products/7?x=1', '/cart', '/checkout/confirm', '/search?q=50%_off', '/Users/99/Orders', '/café/menü'];
const HOSTS = ['web-01', 'web-02', 'WEB-03'];
const SQL = ['SELECT * FROM users WHERE id = 7', 'SELECT * FROM orders WHERE user_id = 3 LIMIT 10', 'UPDATE carts SET n = 2 WHERE id = 9', 'select 1'];
const FUNCS = ['main()', 'App\\Cart::total', 'App\\Db::query', 'PDO::execute'];

/**
 * Deterministic, varied profiles between `from` and `to` (unix s): endpoints, methods, statuses,
 * hosts, durations over four orders of magnitude, SQL and functions. Every fifth shares its
 * timestamp with the one before, so ties in time are exercised.
 */
export function variedProfiles(n: number, prefix: string, project: string, from: number, to: number, seed = 7): Record<string, unknown>[] {
  let rnd = seed;
  const rand = (): number => (rnd = (rnd * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  return Array.from({ length: n }, (_, i) => {
    const ts = from + Math.floor(((i - (i % 5 === 4 ? 1 : 0)) / n) * (to - from)) + 0.25;
    const queries = Array.from({ length: Math.floor(rand() * 4) }, () => ({ query: pick(SQL), duration_ms: Math.round(rand() * 4000) / 100 }));
    return variantProfile({
      id: `${prefix}-${i}`,
      project,
      uri: pick(URIS),
      method: rand() < 0.2 ? 'POST' : 'GET',
      ms: Math.round(rand() * rand() * 900_000) / 100 + 0.5,
      ts,
      status: pick([200, 200, 200, 404, 500]),
      host: pick(HOSTS),
      queries,
      functions: rand() < 0.7 ? FUNCS.slice(0, 1 + Math.floor(rand() * 4)).map((name, k) => ({ name, wall_time_ms: Math.round(rand() * 50_000) / (k + 1) / 100, calls: 1 + k })) : undefined,
    });
  });
}
