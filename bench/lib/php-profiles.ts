/** Realistic PHP agent profiles for the listener benchmarks (listener, listener-pg); deterministic. */
export const PROJECT = 'bench';

let seed = 12345;
const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
export const ENDPOINTS = Array.from({ length: 50 }, (_, i) => ({ method: i % 5 === 0 ? 'POST' : 'GET', path: `/module${i % 10}/action${i}`, base: 80 + (i % 7) * 60 }));
const TABLES = Array.from({ length: 40 }, (_, i) => `table_${i}`);
const FUNCTIONS = Array.from({ length: 300 }, (_, i) => `App\\Module${i % 12}\\Service${i}::handle`);
let nextId = 0;

/** The original PHP agent shape; `big` adds headers, stacks and custom data up to ~10 KB. */
export function makeProfile(ts: number, big: boolean): Record<string, unknown> {
  const e = pick(ENDPOINTS);
  const slow = rand() < 0.02 ? 8 : 1;
  const ms = Math.round(e.base * Math.exp(rand() * 1.5) * slow * 100) / 100;
  const id = `${(nextId++).toString(16).padStart(8, '0')}-6b7d-4e2f-9a1b-${Math.floor(rand() * 1e12).toString(16).padStart(12, '0')}`;
  const nq = big ? 12 : 6;
  const queries = Array.from({ length: nq }, () => {
    const t = pick(TABLES);
    return {
      sql: `SELECT ${t}.* FROM ${t} WHERE ${t}.id = ${Math.floor(rand() * 1e6)} AND status = 'active' LIMIT ${1 + Math.floor(rand() * 50)}`,
      time_ms: Math.round(rand() * ms * 0.05 * 100) / 100,
      stack: big ? Array.from({ length: 3 }, (_, k) => ({ file: `/var/www/app/src/Repository/${t}Repository.php`, line: 40 + k, function: 'query', class: 'Phalcon\\Db\\Adapter\\Pdo' })) : [],
    };
  });
  const top = Array.from({ length: big ? 20 : 10 }, (_, k) => ({ name: k === 0 ? 'main()' : pick(FUNCTIONS), calls: 1 + Math.floor(rand() * 40), wall_time_ms: Math.round((ms / (k + 1)) * 100) / 100 }));
  const id2 = Math.floor(rand() * 1e5);
  return {
    correlation_id: id,
    project: PROJECT,
    timestamp: ts,
    elapsed_ms: ms,
    threshold_ms: 500,
    request: {
      url: `https://shop.example${e.path}/${id2}?page=${Math.floor(rand() * 9)}`,
      method: e.method,
      headers: big ? { Host: 'shop.example', 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', Accept: 'text/html,application/xhtml+xml', 'Accept-Language': 'en-GB,en;q=0.9', Cookie: '[REDACTED]' } : { Host: 'shop.example' },
      get: { page: '1' },
      server: { server_software: 'nginx/1.22.1', remote_addr: '203.0.113.7', script_filename: '/var/www/app/public/index.php' },
    },
    response: { status_code: rand() < 0.01 ? 500 : 200 },
    timing: { start_time: ts, elapsed_ms: ms, request_time_float: ts },
    xhprof: { profiling: { total_calls: 18234, total_wall_time: ms * 1000, top_functions: top } },
    sql: { summary: { total_queries: nq * 3, total_time_ms: queries.reduce((s, q) => s + q.time_ms, 0), slow_queries_count: 0 }, queries },
    server: { hostname: `web-${String(Math.floor(rand() * 8)).padStart(2, '0')}`, php_version: '8.2.12', sapi: 'fpm-fcgi' },
    custom: big ? { user_id: id2, route: e.path, pad: 'x'.repeat(3000) } : { user_id: id2 },
    _meta: { timestamp: ts, php_version: '8.2.12', transmitter_version: '1.0' },
  };
}

