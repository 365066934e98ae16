/**
 * Realistic PHP agent profiles for the ingest benchmark: the shape of what the Bitville PHP
 * agent sends (request, response, timing, xhprof, sql, server, custom, _meta), grown to a target
 * size with more SQL queries and xhprof functions, the way a real slow request is big.
 *
 * Every message gets a unique correlation id. To keep the senders cheap, the JSON is serialised
 * once with a fixed-width placeholder id; each message is a copy of that template with the id
 * bytes patched in place (the id appears at the top, in every query, and in sql).
 */

const PLACEHOLDER = '00000000-0000-4000-8000-000000000000'; // 36 chars, a UUID's width

export interface ProfileTemplate {
  /** The message bytes with the placeholder id, no trailing newline. */
  bytes: Buffer;
  /** Byte offsets of each occurrence of the id. */
  idOffsets: number[];
}

const TABLES = ['orders', 'order_items', 'stock', 'customers', 'addresses', 'invoices', 'payments', 'shipments'];
const FUNCTIONS = [
  'OrderService::confirm',
  'Phalcon\\Db\\Adapter\\Pdo::query',
  'InvoiceRenderer::render',
  'StockService::reserve',
  'PaymentGateway::capture',
  'Twig\\Environment::render',
  'Monolog\\Logger::addRecord',
  'App\\Http\\Kernel::handle',
];

function query(i: number, cid: string, pad: string): Record<string, unknown> {
  const table = TABLES[i % TABLES.length] as string;
  return {
    sql: `SELECT t.id, t.status, t.created_at, t.updated_at FROM ${table} t WHERE t.id = ${1000 + i} AND t.tenant_id = 77 /* ${pad} */`,
    time_ms: Math.round((5 + ((i * 37) % 400)) * 10) / 10,
    variables_count: i % 3,
    stack: [
      { file: `/var/www/project/app/Services/${table}Repository.php`, line: 40 + i, function: 'query', class: 'Phalcon\\Db\\Adapter\\Pdo' },
      { file: '/var/www/project/app/Services/OrderService.php', line: 88, function: 'confirm', class: 'OrderService' },
    ],
    correlation_id: cid,
    connection: { host: '10.0.0.9', dbname: 'shop', port: 5432 },
  };
}

function topFunction(i: number): Record<string, unknown> {
  const wall = 1_231_000 - i * 9_000;
  return {
    name: `${FUNCTIONS[i % FUNCTIONS.length] as string}#${i}`,
    calls: 1 + ((i * 7) % 50),
    wall_time_us: wall,
    wall_time_ms: wall / 1000,
    pct_of_total: Math.round((wall / 1_231_000) * 10000) / 100,
  };
}

function profile(cid: string, queries: number, functions: number, pad: string): Record<string, unknown> {
  return {
    correlation_id: cid,
    project: 'myproject',
    timestamp: 1764150000.1234,
    elapsed_ms: 1234.56,
    threshold_ms: 500,
    request: {
      url: 'https://shop.example/checkout/confirm?order=1042&token=[REDACTED]',
      method: 'POST',
      headers: { Host: 'shop.example', 'User-Agent': 'Mozilla/5.0', Cookie: '[REDACTED]', Authorization: '[REDACTED]' },
      get: { order: '1042', token: '[REDACTED]' },
      post: { address_id: '77', password: '[REDACTED]' },
      files: {},
      server: {
        server_software: 'nginx/1.22.1',
        server_name: 'shop.example',
        remote_addr: '203.0.113.7',
        server_addr: '10.0.0.5',
        document_root: '/var/www/project/site/public',
        script_filename: '/var/www/project/site/public/index.php',
        php_self: '/index.php',
      },
      timestamp: 1764149998.889,
    },
    response: { status_code: 200, headers_sent: true, output_buffering: 1, content_type: null },
    timing: { start_time: 1764149998.889, elapsed_ms: 1234.56, request_time_float: 1764149998.889 },
    xhprof: {
      profiling: {
        total_calls: 18234,
        total_wall_time: 1231000,
        top_functions: Array.from({ length: functions }, (_, i) => topFunction(i)),
      },
      hotspots: [{ name: 'OrderService::confirm', pct: 82.05, wall_time_ms: 1010.0 }],
      memory: { peak_usage: 18874368, current_usage: 14680064, peak_usage_no_real: 17301504 },
      raw_count: 412,
    },
    sql: {
      summary: { total_queries: queries, total_time_ms: 880.4, slow_queries_count: 2, queries_truncated: false },
      queries: Array.from({ length: queries }, (_, i) => query(i, cid, pad)),
      correlation_id: cid,
    },
    server: { hostname: 'web-03', php_version: '7.4.33', sapi: 'fpm-fcgi' },
    custom: { user_id: 5512, route: 'checkout.confirm' },
    _meta: { timestamp: 1764150000.2001, php_version: '7.4.33', transmitter_version: '1.0' },
  };
}

/** Builds a profile of about targetBytes (never less), by adding queries/functions, then padding. */
export function buildProfileTemplate(targetBytes = 10 * 1024): ProfileTemplate {
  let queries = 2;
  let functions = 4;
  let json = JSON.stringify(profile(PLACEHOLDER, queries, functions, ''));
  while (json.length < targetBytes - 900) {
    queries++;
    if (queries % 3 === 0) functions++;
    json = JSON.stringify(profile(PLACEHOLDER, queries, functions, ''));
  }
  // Fill the rest with a comment in each query's SQL, as long statements do.
  const missing = Math.max(0, targetBytes - json.length);
  const pad = 'x'.repeat(Math.ceil(missing / queries));
  json = JSON.stringify(profile(PLACEHOLDER, queries, functions, pad));
  const bytes = Buffer.from(json, 'utf8');
  const idOffsets: number[] = [];
  for (let at = bytes.indexOf(PLACEHOLDER); at !== -1; at = bytes.indexOf(PLACEHOLDER, at + 1)) idOffsets.push(at);
  return { bytes, idOffsets };
}

/** A UUID-shaped id unique per (sender, seq) in this run; run tags separate repeated runs. */
export function correlationId(run: number, sender: number, seq: number): string {
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0').slice(-w);
  return `${hex(run, 8)}-${hex(sender, 4)}-4${hex(seq >>> 24, 3)}-8${hex((seq >>> 12) & 0xfff, 3)}-${hex(seq & 0xfff, 12)}`;
}

/** One message: the template with its id patched in, followed by the newline the protocol wants. */
export function messageFor(t: ProfileTemplate, id: string): Buffer {
  const out = Buffer.allocUnsafe(t.bytes.length + 1);
  t.bytes.copy(out);
  for (const at of t.idOffsets) out.write(id, at, 'latin1');
  out[t.bytes.length] = 0x0a;
  return out;
}
