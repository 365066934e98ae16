import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createBreaker, readBreakerState, type Breaker } from './breaker.js';
import type { SendOutcome } from './send-outcome.js';

// cockatiel reads Date.now() itself, so these tests fake Date (only Date: fs timers stay real).
const log = pino({ level: 'silent' });
const FAIL: SendOutcome = { kind: 'retry', code: 'http_5xx', status: 503, detail: 'HTTP 503' };
const OK: SendOutcome = { kind: 'delivered', status: 200, wireBytes: 10 };

async function breakerIn(dir?: string): Promise<{ b: Breaker; path: string; dir: string }> {
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'bitville-breaker-')));
  const path = join(d, 'circuit-breaker.json');
  const b = createBreaker({ name: 'forward', failureThreshold: 5, retryTimeoutMs: 60_000, initialMs: 1_000, path, log }, await readBreakerState(path, log));
  return { b, path, dir: d };
}

test('opens after 5 consecutive failures, and a success in between starts the count again', async (t) => {
  t.after(() => mock.timers.reset());
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const { b } = await breakerIn();
  for (let i = 0; i < 4; i++) await b.run(async () => FAIL);
  await b.run(async () => OK);
  for (let i = 0; i < 4; i++) await b.run(async () => FAIL);
  assert.equal(b.state(), 'closed');
  assert.equal(b.health().failure_count, 4);
  await b.run(async () => FAIL);
  assert.equal(b.state(), 'open');
  assert.deepEqual(b.gate(), { kind: 'open', retryInMs: 1_000 });
  assert.equal(b.health().opened_at, 1_000);
});

test('while open nothing runs; after the wait exactly one probe runs, and the wait doubles up to retryTimeoutMs', async (t) => {
  t.after(() => mock.timers.reset());
  mock.timers.enable({ apis: ['Date'], now: 5_000_000 });
  const { b } = await breakerIn();
  for (let i = 0; i < 5; i++) await b.run(async () => FAIL);
  let calls = 0;
  const counted = async (): Promise<SendOutcome> => {
    calls++;
    return FAIL;
  };
  const waits: number[] = [];
  for (let round = 0; round < 8; round++) {
    const gate = b.gate();
    assert.equal(gate.kind, 'open');
    waits.push(gate.kind === 'open' ? gate.retryInMs : -1);
    mock.timers.tick(waits[round]! - 1);
    assert.deepEqual(await b.run(counted), { kind: 'rejected' }, 'no traffic while open');
    mock.timers.tick(1);
    assert.equal(b.gate().kind, 'probe_due');
    await b.run(counted); // the probe fails: open again
  }
  assert.equal(calls, 8, 'one probe per open period');
  assert.deepEqual(waits, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
});

test('a probe that succeeds closes the circuit', async (t) => {
  t.after(() => mock.timers.reset());
  mock.timers.enable({ apis: ['Date'], now: 9_000_000 });
  const { b } = await breakerIn();
  for (let i = 0; i < 5; i++) await b.run(async () => FAIL);
  mock.timers.tick(1_000);
  let release: (o: SendOutcome) => void = () => undefined;
  const probe = b.run(() => new Promise<SendOutcome>((r) => (release = r)));
  assert.equal(b.gate().kind, 'probing', 'others wait while the probe is in flight');
  release(OK);
  await probe;
  assert.equal(b.state(), 'closed');
  assert.equal(b.health().failure_count, 0);
  assert.equal(b.health().opened_at, null);
});

test('quarantine answers and our own aborts do not count as failures', async () => {
  const { b } = await breakerIn();
  for (let i = 0; i < 10; i++) {
    await b.run(async () => ({ kind: 'quarantine', code: 'http_4xx', status: 400, body: '' }));
    await b.run(async () => ({ kind: 'retry', code: 'aborted', detail: 'stop' }));
  }
  assert.equal(b.state(), 'closed');
  assert.equal(b.health().failure_count, 0);
});

test('the open state and its remaining wait survive a restart through circuit-breaker.json', async (t) => {
  t.after(() => mock.timers.reset());
  mock.timers.enable({ apis: ['Date'], now: 20_000_000 });
  const first = await breakerIn();
  for (let i = 0; i < 5; i++) await first.b.run(async () => FAIL);
  mock.timers.tick(1_000);
  await first.b.run(async () => FAIL); // failed probe: now open for 2 s
  await first.b.flush();
  const saved = JSON.parse(await readFile(first.path, 'utf8')) as Record<string, unknown>;
  assert.equal(saved.state, 'open');
  assert.equal(saved.opened_at_ms, 20_001_000);

  mock.timers.tick(500);
  const second = await breakerIn(first.dir);
  assert.equal(second.b.state(), 'open');
  assert.deepEqual(second.b.gate(), { kind: 'open', retryInMs: 1_500 });
  assert.equal(second.b.health().opened_at, 20_001);
  mock.timers.tick(1_500);
  await second.b.run(async () => OK);
  assert.equal(second.b.state(), 'closed');
  await second.b.flush();
  assert.equal((JSON.parse(await readFile(first.path, 'utf8')) as Record<string, unknown>).state, 'closed');
});

test('a corrupt state file is ignored and the circuit starts closed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bitville-breaker-'));
  await writeFile(join(dir, 'circuit-breaker.json'), '{"version":1,"cock');
  const { b } = await breakerIn(dir);
  assert.equal(b.state(), 'closed');
});
