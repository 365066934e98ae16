import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { startTestListener } from '../../../test/helpers/test-listener.js';
import { VERSION } from '../../shared/version.js';
import { createHttpSender, type HttpSenderOptions } from './http-sender.js';

const items = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(JSON.stringify({ correlation_id: `c${i}`, project: 'shop' })));

function sender(url: string, extra: Partial<HttpSenderOptions> = {}) {
  return createHttpSender({ url, token: 'sekrit', connectTimeoutMs: 500, timeoutMs: 300, maxSockets: 1, compression: 'gzip', compressionLevel: 1, ...extra });
}

test('posts gzip NDJSON to /v1/ingest with the bearer token and the agent header', async (t) => {
  const listener = await startTestListener({ token: 'sekrit' });
  const s = sender(listener.url);
  t.after(async () => {
    s.close();
    await listener.close();
  });
  const outcome = await s.send(items(3));
  assert.equal(outcome.kind, 'delivered');
  assert.deepEqual(listener.allIds(), ['c0', 'c1', 'c2']);
  const h = listener.log()[0]!.headers;
  assert.equal(h['content-type'], 'application/x-ndjson');
  assert.equal(h['content-encoding'], 'gzip');
  assert.equal(h.authorization, 'Bearer sekrit');
  assert.equal(h['x-bitville-agent'], `${hostname()}/${VERSION}`);
});

test('compression none posts the plain NDJSON, every item intact, with the exact Content-Length', async (t) => {
  const listener = await startTestListener({ token: 'sekrit' });
  const s = sender(listener.url, { compression: 'none' });
  t.after(async () => {
    s.close();
    await listener.close();
  });
  const batch = items(50);
  const outcome = await s.send(batch);
  assert.equal(outcome.kind, 'delivered');
  assert.deepEqual(listener.allIds(), batch.map((_, i) => `c${i}`));
  const h = listener.log()[0]!.headers;
  assert.equal(h['content-encoding'], undefined);
  assert.equal(Number(h['content-length']), batch.reduce((n, b) => n + b.length + 1, 0));
  if (outcome.kind === 'delivered') assert.equal(outcome.wireBytes, Number(h['content-length']));
});

test('429 and 503 are retried after their Retry-After; 408 and 5xx are retried', async (t) => {
  const listener = await startTestListener();
  const s = sender(listener.url);
  t.after(async () => {
    s.close();
    await listener.close();
  });
  listener.setMode({ kind: 'status', status: 429, retryAfterS: 7 });
  assert.deepEqual(await s.send(items(1)), { kind: 'retry', code: 'http_429', status: 429, detail: 'HTTP 429', afterMs: 7_000 });
  listener.setMode({ kind: 'status', status: 503, retryAfterS: 2 });
  assert.deepEqual(await s.send(items(1)), { kind: 'retry', code: 'http_5xx', status: 503, detail: 'HTTP 503', afterMs: 2_000 });
  listener.setMode({ kind: 'status', status: 500 });
  assert.deepEqual(await s.send(items(1)), { kind: 'retry', code: 'http_5xx', status: 500, detail: 'HTTP 500' });
  listener.setMode({ kind: 'status', status: 408 });
  assert.deepEqual(await s.send(items(1)), { kind: 'retry', code: 'http_408', status: 408, detail: 'HTTP 408' });
});

test('any other 4xx is permanent and carries the answer for quarantine', async (t) => {
  const listener = await startTestListener({ mode: { kind: 'status', status: 400, body: '{"error":"not ndjson"}' } });
  const s = sender(listener.url);
  t.after(async () => {
    s.close();
    await listener.close();
  });
  assert.deepEqual(await s.send(items(1)), { kind: 'quarantine', code: 'http_4xx', status: 400, body: '{"error":"not ndjson"}' });
});

test('network failures become retry outcomes: refused, reset, no answer', async (t) => {
  const listener = await startTestListener({ mode: { kind: 'reset' } });
  const s = sender(listener.url);
  t.after(async () => {
    s.close();
    await listener.close();
  });
  const reset = await s.send(items(1));
  assert.equal(reset.kind === 'retry' && reset.code, 'reset');
  listener.setMode({ kind: 'hang' });
  const started = Date.now();
  const hung = await s.send(items(1));
  assert.equal(hung.kind === 'retry' && hung.code, 'timeout');
  assert.ok(Date.now() - started < 2_000, 'the request timeout ends a request that is never answered');
  await listener.down();
  const refused = await s.send(items(1));
  assert.equal(refused.kind === 'retry' && refused.code, 'connect');
});

test('an abort signal ends a request in flight as `aborted`', async (t) => {
  const listener = await startTestListener({ mode: { kind: 'hang' } });
  const s = sender(listener.url, { timeoutMs: 10_000 });
  t.after(async () => {
    s.close();
    await listener.close();
  });
  const ac = new AbortController();
  const pending = s.send(items(1), ac.signal);
  setTimeout(() => ac.abort(), 50);
  const outcome = await pending;
  assert.equal(outcome.kind === 'retry' && outcome.code, 'aborted');
});
