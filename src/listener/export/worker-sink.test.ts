import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeExportFacts } from '../extract/export-facts.js';
import type { ExportRow } from '../store/store.js';
import { createWorkerSink } from './worker-sink.js';

/** A profile row whose facts list `queries` queries: each becomes a CLIENT span in the export thread. */
function row(id: string, queries: number): ExportRow {
  const facts = encodeExportFacts({
    start: 1764150001,
    trace: { traceparent: null, tracestate: null, traceId: null, spanId: null },
    fatal: null,
    hostHeader: null,
    dbSystem: null,
    queries: Array.from({ length: queries }, (_, i) => ({ fingerprint: `SELECT * FROM t${i} WHERE id = ?`, ms: 1, startMs: i, system: null })),
    functions: [],
  });
  return {
    stream: 'profile',
    position: id,
    project: 'shop',
    source: 'php',
    key: id,
    timestamp: 1764150001,
    profile: { method: 'GET', url: '/', endpoint: 'GET /', status: 200, duration_ms: 500, host: 'web-1', sql_count: queries, sql_ms: queries, is_error: false },
    stored: Buffer.from('{}'),
    encoding: 0,
    facts,
  };
}

test('an export thread that runs out of memory fails only its batch (retried as "worker"), and the next batch runs on a new thread', async () => {
  let posts = 0;
  const collector = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      posts++;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
  const failures: string[] = [];
  const sink = createWorkerSink(
    { kind: 'otlp', options: { url: `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`, headers: {}, encoding: 'protobuf', compression: 'none', maxSqlSpans: 200, functionSpans: 0, dbSystem: 'other_sql', timeoutMs: 10_000 } },
    { onRejectedSpans: () => undefined, onThreadFailed: (m) => failures.push(m) },
    { maxOldGenerationSizeMb: 32 },
  );
  try {
    assert.deepEqual(await sink.send([row('small-1', 2)]), { kind: 'delivered' });
    // 2,000 profiles of 200 queries: 400,000 spans held at once, far beyond the thread's 32 MB heap.
    const outcome = await sink.send(Array.from({ length: 2000 }, (_, i) => row(`big-${i}`, 200)));
    assert.ok(outcome.kind === 'retry' && outcome.code === 'worker' && outcome.maybeDelivered, JSON.stringify(outcome));
    assert.equal(failures.length, 1, 'reported once');
    assert.deepEqual(await sink.send([row('small-2', 2)]), { kind: 'delivered' }, 'a new thread takes the next batch');
    assert.equal(posts, 2, 'the failed batch never reached the collector');
  } finally {
    await sink.close();
    await new Promise((r) => collector.close(r));
  }
});
