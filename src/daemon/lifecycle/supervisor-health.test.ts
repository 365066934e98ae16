import { test } from 'node:test';
import assert from 'node:assert/strict';
import { supervisorHealth, type SupervisorFacts } from './supervisor-health.js';

const facts: SupervisorFacts = {
  starting: false,
  pid: 10,
  startedAt: 0,
  now: 90_000,
  restarts: 3,
  restartsByReason: { max_requests: 2, crash: 1 },
  crashes: 1,
  workerPid: 11,
  workerGeneration: 4,
  workersAlive: 1,
  reloads: 0,
  reloadFailures: 0,
  maxMemoryMb: 256,
  maxRequests: 1000,
  udpRelayed: 0,
};

test('with no worker running, health is failing (503) and still shows the restart count', () => {
  const r = supervisorHealth(null, facts);
  assert.equal(r.status, 'failing');
  assert.deepEqual(r.body.problems, ['no_worker_running']);
  assert.equal((r.body.stats as { worker: { restarts: number } }).worker.restarts, 3);
});

test("the worker's report keeps its status and fields, with the supervisor's restarts and uptime laid over", () => {
  const worker = { status: 'degraded' as const, body: { status: 'degraded', uptime_seconds: 2, stats: { worker: { request_count: 5, restarts: 0 }, buffer: { memory_buffer_count: 1 } } } };
  const r = supervisorHealth(worker, facts);
  assert.equal(r.status, 'degraded');
  assert.equal(r.body.uptime_seconds, 90);
  const stats = r.body.stats as { worker: Record<string, unknown>; buffer: Record<string, unknown> };
  assert.deepEqual(stats.worker, { request_count: 5, restarts: 3, pid: 11, generation: 4 });
  assert.deepEqual(stats.buffer, { memory_buffer_count: 1 });
});
