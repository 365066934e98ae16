import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fastify } from 'fastify';
import { LISTENER_ERROR_CODES } from './error-codes.js';
import { extractRecord } from './extract/extract-record.js';
import { createListenerMetrics } from './metrics.js';
import { errorServerOptions, registerErrorHandlers } from './http-errors.js';
import { createSqliteStore } from './store/sqlite/sqlite-store.js';
import { ndjson, startTestListener, variantProfile, type TestListener } from '../../test/helpers/listener-harness.js';

const CODES = new Set<string>(LISTENER_ERROR_CODES);

interface Answer {
  status: number;
  type: string;
  body: Record<string, unknown>;
}

async function ask(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as Record<string, unknown> };
}

/** Raw bytes on a socket, for what fetch refuses to send (oversized headers, not-HTTP). */
function rawExchange(url: string, bytes: string): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => s.write(bytes));
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString()));
    s.on('error', reject);
    s.on('close', () => {
      const [head = '', text = ''] = got.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), type: /content-type: ([^\r]+)/i.exec(head)?.[1] ?? '', body: JSON.parse(text) as Record<string, unknown> });
    });
  });
}

function assertStable(a: Answer, status: number, code: string, what: string): void {
  assert.equal(a.status, status, what);
  assert.match(a.type, /^application\/json/, what);
  assert.equal(a.body.error, code, what);
  assert.ok(CODES.has(String(a.body.error)), `${what}: ${String(a.body.error)} is in the closed set`);
  assert.equal(typeof a.body.message, 'string', what);
  assert.ok((a.body.message as string).length > 0 && (a.body.message as string).length < 300, what);
}

describe('error answers', () => {
  let l: TestListener;
  const token = { Authorization: 'Bearer token-a' };
  before(async () => {
    l = await startTestListener({ limits: { maxBodyBytes: 64 * 1024, maxLineBytes: 256 * 1024 } });
    assert.equal((await l.post('/v1/ingest', ndjson([variantProfile({ id: 'err-1', uri: '/err/one', host: 'web-err' })]))).json.accepted, 1);
  });
  after(async () => l.close());

  test('every error answer of the ingest, read, dashboard and fallback routes is {error, message} with a code from the closed set', async () => {
    const u = l.url;
    const cases: [Promise<Answer>, number, string, string][] = [
      [ask(`${u}/v1/ingest`, { method: 'POST', body: '{}' }), 401, 'unauthorized', 'ingest without a token'],
      [ask(`${u}/v1/ingest`, { method: 'POST', headers: { ...token, 'Content-Encoding': 'br' }, body: '{}' }), 400, 'bad_encoding', 'unsupported encoding'],
      [ask(`${u}/v1/ingest`, { method: 'POST', headers: token, body: 'hello' }), 400, 'not_ndjson', 'not NDJSON'],
      [ask(`${u}/v1/ingest`, { method: 'POST', headers: token, body: 'x'.repeat(70 * 1024) }), 413, 'body_too_large', 'body over maxBodyBytes'],
      [ask(`${u}/ingest/php`, { method: 'POST', headers: token, body: '{"a":' }), 400, 'invalid_json', 'single route, broken JSON'],
      [ask(`${u}/ingest/php`, { method: 'POST', headers: token, body: JSON.stringify({ project: 'project-b' }) }), 403, 'project_not_allowed', 'single route, other project'],
      [ask(`${u}/api/v1/requests?limit=abc`, { headers: token }), 400, 'bad_request', 'bad parameter'],
      [ask(`${u}/api/v1/requests?q=%00`, { headers: token }), 400, 'bad_query', 'control character'],
      [ask(`${u}/api/v1/stats/endpoints?from=10&to=5`, { headers: token }), 400, 'bad_request', 'empty window'],
      [ask(`${u}/api/v1/requests?project=project-b`, { headers: token }), 403, 'forbidden', 'other project'],
      [ask(`${u}/api/v1/requests/nope`, { headers: token }), 404, 'not_found', 'unknown request'],
      [ask(`${u}/api/v1/requests/%E0%A4%A`, { headers: token }), 400, 'bad_request', 'bad percent-encoding'],
      [ask(`${u}/api/v1/requests/${'x'.repeat(3000)}`, { headers: token }), 414, 'uri_too_long', 'path parameter too long'],
      [ask(`${u}/no/such/route`), 404, 'not_found', 'no route'],
      [ask(`${u}/api/v1/projects`, { method: 'DELETE', headers: token }), 404, 'not_found', 'wrong method'],
      [ask(`${u}/assets/missing.js`), 404, 'not_found', 'dashboard asset'],
      [rawExchange(u, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`), 431, 'headers_too_large', 'header overflow'],
      [rawExchange(u, 'THIS IS NOT HTTP\r\n\r\n'), 400, 'bad_request', 'not HTTP'],
    ];
    for (const [answer, status, code, what] of cases) assertStable(await answer, status, code, what);
  });

  test('a failing store answers 503 store_unavailable without its internal error text, on ingest and read', async () => {
    const db = new Database(join(l.dir, 'listener.db'));
    db.exec('ALTER TABLE requests RENAME TO requests_away');
    try {
      const read = await ask(`${l.url}/api/v1/requests?url=err`, { headers: token });
      assertStable(read, 503, 'store_unavailable', 'search');
      const write = await ask(`${l.url}/v1/ingest`, { method: 'POST', headers: token, body: ndjson([variantProfile({ id: 'err-2' })]) });
      assertStable(write, 503, 'store_unavailable', 'ingest');
      for (const a of [read, write]) assert.doesNotMatch(JSON.stringify(a.body), /requests|table|sqlite/i);
    } finally {
      db.exec('ALTER TABLE requests_away RENAME TO requests');
      db.close();
    }
    assert.equal((await l.get('/api/v1/requests?url=err')).status, 200);
  });

  test('q, url and host with control characters answer 400 bad_query instead of matching every row', async () => {
    for (const query of ['q=%00', 'q=a%00', 'url=%01', 'host=web%1Ferr', 'q=%7F', 'url=/err%0Aone']) {
      assertStable(await ask(`${l.url}/api/v1/requests?${query}`, { headers: token }), 400, 'bad_query', query);
    }
    const normal = (await l.get('/api/v1/requests?q=err/one')).json as { total: number };
    assert.equal(normal.total, 1);
    const none = (await l.get('/api/v1/requests?q=%C3%A9')).json as { total: number };
    assert.equal(none.total, 0);
  });

  test('the detail of a stored 100,000-deep payload, or one over limits.maxLineBytes, answers 200 with the payload left out and its bytes on /payload', async () => {
    const store = createSqliteStore({ file: join(l.dir, 'listener.db') });
    const deep = Buffer.from(`{"correlation_id":"stored-deep","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    const huge = Buffer.from(JSON.stringify({ correlation_id: 'stored-huge', pad: 'h'.repeat(300 * 1024) }));
    const shape = (id: string) => variantProfile({ id, uri: '/err/one', ms: 500 });
    try {
      await store.insertBatch([extractRecord(shape('stored-deep'), deep), extractRecord(shape('stored-huge'), huge)]);
    } finally {
      await store.close();
    }
    for (const [id, reason, bytes] of [['stored-deep', 'too_deep', deep], ['stored-huge', 'too_large', huge]] as const) {
      const detail = await l.get(`/api/v1/requests/${id}`);
      assert.equal(detail.status, 200, id);
      assert.equal(detail.json.payload, null);
      assert.deepEqual(detail.json.payload_omitted, { reason, bytes: bytes.length });
      assert.equal(typeof (detail.json.comparison as { baseline_count: number }).baseline_count, 'number');
      const raw = await fetch(`${l.url}/api/v1/requests/${id}/payload`, { headers: token });
      assert.equal(raw.status, 200);
      assert.ok(Buffer.from(await raw.arrayBuffer()).equals(bytes), `${id}: the stored bytes unchanged`);
    }
    // A normal request on the same endpoint compares against a baseline that holds both.
    const normal = await l.get('/api/v1/requests/err-1');
    assert.equal(normal.status, 200);
    assert.equal((normal.json.payload as { correlation_id: string }).correlation_id, 'err-1');
  });
});

test('a route that throws answers 500 internal with a fixed sentence; the error text goes to the log only', async () => {
  const logged: { code: string; fields: object }[] = [];
  const app = fastify({ ...errorServerOptions() });
  registerErrorHandlers(app, { maxBodyBytes: 1024, metrics: createListenerMetrics(), logLimited: (code, fields) => logged.push({ code, fields }), stopping: () => false });
  app.get('/boom', async () => {
    throw new Error('SQLITE_CORRUPT at /var/lib/secret/listener.db');
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const a = await ask(`${url}/boom`);
    assertStable(a, 500, 'internal', 'throwing route');
    assert.doesNotMatch(JSON.stringify(a.body), /SQLITE|secret/);
    assert.equal(logged.length, 1);
    assert.match(String((logged[0]?.fields as { err: Error }).err.message), /SQLITE_CORRUPT/);
  } finally {
    await app.close();
  }
});
