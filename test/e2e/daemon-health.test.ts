import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineFor } from '../helpers/profiles.js';
import { spawnDaemon, tempDir } from '../helpers/daemon-process.js';
import { sendOnce } from '../helpers/socket-client.js';
import { waitFor } from '../helpers/wait-for.js';

test('/health fails with 503 when the socket file is gone, because clients can no longer connect', async () => {
  const daemon = await spawnDaemon(tempDir());
  assert.equal((await daemon.health()).status, 200);
  unlinkSync(daemon.socketPath);
  const { status, body } = await daemon.health();
  assert.equal(status, 503);
  assert.equal(body.status, 'failing');
  assert.ok(body.problems.includes('socket_not_listening'));
  daemon.kill('SIGTERM');
  await daemon.exited;
});

test('/health fails with 503 when the spool cannot be written', async () => {
  const daemon = await spawnDaemon(tempDir());
  const spool = join(daemon.dataDir, 'buffer');
  rmSync(spool, { recursive: true });
  writeFileSync(spool, 'not a directory'); // root ignores permissions, so break the path itself
  const { status, body } = await waitFor(async () => {
    const h = await daemon.health();
    return h.status === 503 ? h : null;
  }, { what: 'a 503 from /health' });
  assert.equal(status, 503);
  assert.ok(body.problems.includes('spool_not_writable'));
  daemon.kill('SIGKILL');
  await daemon.exited;
});

test('/health and /metrics report the counts the traffic produced', async () => {
  const daemon = await spawnDaemon(tempDir());
  for (let i = 0; i < 7; i++) await sendOnce(daemon.socketPath, lineFor(`ok-${i}`));
  await sendOnce(daemon.socketPath, '{"no":"ids"}\n{broken\n[1,2]\n');
  await waitFor(async () => (await daemon.accepted()) === 8, { what: '8 accepted' });
  const { body } = await daemon.health();
  assert.equal(body.stats.ingest.accepted, 8);
  assert.equal(body.stats.ingest.defaults_filled, 1);
  assert.deepEqual(body.stats.ingest.rejected_by_reason, { invalid_json: 1, not_object: 1 });
  assert.equal(body.stats.buffer.memory_buffer_count, 8);
  assert.equal(body.stats.buffer.memory_buffer_limit, 100);
  for (const key of ['request_count', 'memory_usage_mb', 'memory_limit_mb', 'restarts', 'max_requests']) assert.ok(key in body.stats.worker, key);
  for (const key of ['name', 'state', 'failure_count', 'failure_threshold', 'retry_timeout', 'opened_at']) assert.ok(key in (body.stats.circuit_breaker as object), key);
  const text = await daemon.metricsText();
  assert.match(text, /^bitville_daemon_ingest_accepted_total\{source="unix"\} 8$/m);
  assert.match(text, /^bitville_daemon_ingest_rejected_total\{error_code="invalid_json"\} 1$/m);
  assert.match(text, /^bitville_daemon_buffer_memory_items 8$/m);
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});

test('a new worker warms up on synthetic profiles before it accepts, and counts, keeps and sends none of them', async () => {
  const daemon = await spawnDaemon(tempDir(), { ingest: { warmUpConnections: 120 } });
  const warmed = /"handled":(\d+),"ms":\d+,"msg":"ingest warmed up"/.exec(daemon.output());
  assert.equal(warmed?.[1], '120', daemon.output());
  const { body } = await daemon.health();
  assert.equal(body.stats.ingest.accepted + body.stats.ingest.rejected, 0);
  assert.equal(body.stats.buffer.memory_buffer_count, 0);
  assert.equal(body.stats.worker.request_count, 0); // lifecycle.maxRequests counts real clients only
  assert.doesNotMatch(await daemon.metricsText(), /^bitville_daemon_ingest_received_bytes_total\{[^}]*\} [1-9]/m);
  await sendOnce(daemon.socketPath, lineFor('after-warm-up'));
  await waitFor(async () => (await daemon.accepted()) === 1, { what: 'the first real profile' });
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);

  const cold = await spawnDaemon(tempDir(), { ingest: { warmUpConnections: 0 } });
  assert.doesNotMatch(cold.output(), /warm/);
  cold.kill('SIGTERM');
  assert.equal(await cold.exited, 0);
});

test('the worker runs with the small young generation and the 24 MB first old generation (docs/benchmarks.md, "V8 flags")', async () => {
  const daemon = await spawnDaemon(tempDir());
  const args = readFileSync(`/proc/${await daemon.workerPid()}/cmdline`, 'utf8').split('\0');
  assert.ok(args.includes('--max-semi-space-size=2'), args.join(' '));
  assert.ok(args.includes('--initial-old-space-size=24'), args.join(' '));
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});
