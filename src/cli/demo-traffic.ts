/**
 * `bitville-apm up --demo`: synthetic PHP-shaped profiles (what clients/php sends, DESIGN
 * section 9) written to the daemon socket, so a newcomer sees requests, endpoint, SQL and
 * function statistics at once. A realistic mix: one slow report endpoint (a slow SQL query and a
 * slow function inside), everyday pages just over the threshold, and some errors.
 */
import { randomUUID } from 'node:crypto';
import { createConnection } from 'node:net';

export interface DemoTrafficOptions {
  socket: string;
  /** The `project` of every profile. Default `demo`. */
  project: string;
  /** Profiles sent at once on start, spread over the last `burstSpreadS`. Default 60. */
  burst: number;
  /** Seconds back in time the first burst covers. Default 600 (10 min). */
  burstSpreadS: number;
  /** Profiles per second afterwards. Default 2. */
  ratePerSecond: number;
  random: () => number;
  now: () => number;
}

export const DEMO_DEFAULTS = { project: 'demo', burst: 60, burstSpreadS: 600, ratePerSecond: 2 } as const;

export interface DemoTraffic {
  start(): void;
  stop(): Promise<void>;
  stats(): { sent: number; failedWrites: number };
}

interface Endpoint {
  method: string;
  path: () => string;
  /** Share of the traffic, in slots of one cycle. */
  weight: number;
  minMs: number;
  maxMs: number;
  /** Share of requests answered 500, every 1/errorRate-th one (half of those a PHP fatal error). */
  errorRate: number;
  sql: (total: number, r: () => number) => { query: string; duration_ms: number }[];
  functions: (total: number, r: () => number) => { name: string; share: number; calls: number }[];
}

/** The slow endpoint, ranked first by total time: a report with one slow query and one slow function. */
export const DEMO_SLOW_ENDPOINT = 'GET /reports/monthly/{id}';

const ENDPOINTS: Endpoint[] = [
  {
    method: 'GET',
    path: () => `/reports/monthly/${2020 + Math.floor(Math.random() * 6)}`,
    weight: 2,
    minMs: 1800,
    maxMs: 3200,
    errorRate: 0,
    sql: (t, r) => [
      { query: "SELECT customer_id, sum(total) AS revenue FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.created_at >= '2026-01-01' GROUP BY customer_id ORDER BY revenue DESC", duration_ms: t * (0.42 + 0.05 * r()) },
      { query: 'SELECT id, name FROM customers WHERE id IN (4, 8, 15, 16, 23, 42)', duration_ms: 3 + 4 * r() },
    ],
    functions: () => [
      { name: 'ReportController::monthlyAction', share: 0.97, calls: 1 },
      { name: 'ReportBuilder::aggregate', share: 0.38, calls: 1 },
      { name: 'Phalcon\\Db\\Adapter\\Pdo::query', share: 0.45, calls: 2 },
      { name: 'PdfRenderer::render', share: 0.08, calls: 1 },
    ],
  },
  {
    method: 'GET',
    path: () => `/products/${100 + Math.floor(Math.random() * 900)}`,
    weight: 4,
    minMs: 510,
    maxMs: 800,
    errorRate: 0,
    sql: (t, r) => [
      { query: `SELECT * FROM products WHERE id = ${Math.floor(r() * 900)}`, duration_ms: 2 + 3 * r() },
      { query: 'SELECT * FROM product_images WHERE product_id = 311 ORDER BY position', duration_ms: t * 0.1 },
      { query: 'SELECT p.* FROM products p JOIN related r ON r.other_id = p.id WHERE r.product_id = 311 LIMIT 8', duration_ms: t * 0.25 },
    ],
    functions: () => [
      { name: 'ProductController::showAction', share: 0.9, calls: 1 },
      { name: 'Twig\\Environment::render', share: 0.3, calls: 1 },
      { name: 'Phalcon\\Db\\Adapter\\Pdo::query', share: 0.36, calls: 3 },
    ],
  },
  {
    method: 'POST',
    path: () => '/checkout/confirm',
    weight: 3,
    minMs: 600,
    maxMs: 1100,
    errorRate: 0.15,
    sql: (t, r) => [
      { query: `SELECT * FROM orders WHERE id = ${1000 + Math.floor(r() * 500)} FOR UPDATE`, duration_ms: t * 0.2 },
      { query: `UPDATE stock SET qty = qty - 1 WHERE product_id = ${Math.floor(r() * 900)}`, duration_ms: t * 0.15 },
      { query: "INSERT INTO payments (order_id, provider, status) VALUES (1042, 'stripe', 'pending')", duration_ms: 4 + 6 * r() },
    ],
    functions: () => [
      { name: 'CheckoutController::confirmAction', share: 0.95, calls: 1 },
      { name: 'PaymentGateway::charge', share: 0.45, calls: 1 },
      { name: 'Phalcon\\Db\\Adapter\\Pdo::execute', share: 0.36, calls: 3 },
    ],
  },
  {
    method: 'GET',
    path: () => `/search?q=${['lamp', 'desk', 'chair', 'sofa'][Math.floor(Math.random() * 4)]}`,
    weight: 3,
    minMs: 520,
    maxMs: 950,
    errorRate: 0,
    sql: (t) => [{ query: "SELECT id, name FROM products WHERE name LIKE '%lamp%' OR description LIKE '%lamp%' LIMIT 50", duration_ms: t * 0.55 }],
    functions: () => [
      { name: 'SearchController::indexAction', share: 0.92, calls: 1 },
      { name: 'SearchRanker::score', share: 0.2, calls: 50 },
    ],
  },
  {
    method: 'GET',
    path: () => '/api/v1/cart',
    weight: 2,
    minMs: 500,
    maxMs: 700,
    errorRate: 0.1,
    sql: (t) => [{ query: 'SELECT * FROM cart_items WHERE session_id = ?', duration_ms: t * 0.1 }],
    functions: () => [
      { name: 'CartApi::getAction', share: 0.9, calls: 1 },
      { name: 'Redis::get', share: 0.6, calls: 4 },
    ],
  },
];

/** One cycle holds each endpoint `weight` times, so the mix is exact over every cycle. */
const CYCLE = ENDPOINTS.flatMap((e) => Array.from({ length: e.weight }, () => e));

export function createDemoTraffic(options: Partial<DemoTrafficOptions> & { socket: string }): DemoTraffic {
  const o: DemoTrafficOptions = Object.freeze({ ...DEMO_DEFAULTS, random: Math.random, now: Date.now, ...options });
  let sent = 0;
  let failedWrites = 0;
  let n = 0;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> = Promise.resolve();

  const seen = new Map<Endpoint, number>();
  const next = (atMs: number): string => {
    const e = CYCLE[n++ % CYCLE.length] as Endpoint;
    const k = (seen.get(e) ?? 0) + 1;
    seen.set(e, k);
    const every = e.errorRate > 0 ? Math.round(1 / e.errorRate) : 0;
    const failed = every > 0 && k % every === 2 % every; // deterministic: the first burst always has errors
    return JSON.stringify(demoProfile(e, o.project, atMs, o.random, failed)) + '\n';
  };

  const write = (lines: string[]): void => {
    inFlight = inFlight.then(
      () =>
        new Promise<void>((resolve) => {
          const c = createConnection(o.socket, () => c.end(lines.join('')));
          c.on('error', () => {
            failedWrites++; // the daemon restarting or stopping; the next tick tries again
            resolve();
          });
          c.on('close', (hadError) => {
            if (!hadError) sent += lines.length;
            resolve();
          });
          c.resume();
        }),
    );
  };

  return {
    start() {
      if (timer) return;
      const now = o.now();
      const burst: string[] = [];
      for (let i = 0; i < o.burst; i++) burst.push(next(now - o.burstSpreadS * 1000 * (1 - i / o.burst)));
      write(burst);
      let carry = 0;
      timer = setInterval(() => {
        carry += o.ratePerSecond / 4;
        const lines: string[] = [];
        for (; carry >= 1; carry--) lines.push(next(o.now()));
        if (lines.length > 0) write(lines);
      }, 250);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await inFlight;
    },
    stats: () => ({ sent, failedWrites }),
  };
}

/** A profile as clients/php/bitville-apm.php builds it. */
export function demoProfile(e: Endpoint, project: string, atMs: number, r: () => number, failed: boolean): Record<string, unknown> {
  const ms = Math.round((e.minMs + (e.maxMs - e.minMs) * r()) * 1000) / 1000;
  const start = atMs / 1000 - ms / 1000;
  const fatal = failed && r() < 0.5;
  const uri = e.path();
  const queries = e.sql(ms, r).map((q) => ({
    ...q,
    duration_ms: Math.round(q.duration_ms * 1000) / 1000,
    stack_trace: [{ file: '/var/www/shop/app/Models/Repository.php', line: 88, function: 'query', class: 'Bitville\\Apm\\Pdo' }],
  }));
  const sqlMs = queries.reduce((s, q) => s + q.duration_ms, 0);
  const fns = e.functions(ms, r);
  const host = `web-0${1 + Math.floor(r() * 3)}`;
  return {
    correlation_id: randomUUID(),
    project,
    timestamp: start,
    elapsed_ms: ms,
    threshold_ms: 500,
    request: {
      method: e.method,
      uri,
      url: `https://shop.example${uri}`,
      timestamp: start,
      headers: { Host: 'shop.example', 'User-Agent': 'Mozilla/5.0 (demo)', Cookie: '[REDACTED]' },
    },
    response: { status_code: failed ? 500 : 200, content_type: uri.startsWith('/api') ? 'application/json' : 'text/html; charset=UTF-8', headers_sent: true },
    timing: { start_time: start, end_time: start + ms / 1000, duration_ms: ms, request_time_float: start },
    memory: { peak_usage: Math.round(8e6 + 3e7 * r()), peak_usage_real: 4.2e7, current_usage: 6e6, limit: '256M' },
    server: { hostname: host, php_version: '8.2.29', sapi: 'fpm-fcgi', pid: 1000 + Math.floor(r() * 9000) },
    sql: { queries, total_queries: queries.length, total_duration_ms: Math.round(sqlMs * 1000) / 1000, queries_truncated: false },
    xhprof: {
      source: 'tideways_xhprof',
      profiling: {
        total_calls: 5000 + Math.floor(r() * 20000),
        total_wall_time: Math.round(ms * 1000),
        top_functions: fns.map((f) => ({
          name: f.name,
          calls: f.calls,
          wall_time_us: Math.round(ms * f.share * 1000),
          wall_time_ms: Math.round(ms * f.share * 1000) / 1000,
          self_wall_time_ms: Math.round(ms * f.share * 400) / 1000,
          pct_of_total: Math.round(f.share * 10000) / 100,
        })),
      },
    },
    ...(fatal ? { fatal_error: { type: 1, message: 'Allowed memory size of 268435456 bytes exhausted', file: '/var/www/shop/app/Services/Checkout.php', line: 212 } } : {}),
    custom: { demo: true },
    _meta: { timestamp: start + ms / 1000, php_version: '8.2.29', transmitter_version: 'bitville-apm-demo/0.1.0', profiler: 'tideways' },
  };
}
