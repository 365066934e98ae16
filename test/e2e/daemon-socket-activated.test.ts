// The daemon as one process under systemd socket activation (docs/daemon.md, "One process under
// systemd"): a stand-in for systemd holds the listening socket and restarts the daemon; the
// daemon must accept, forward and answer /health alone, and lose nothing across a SIGKILL, a
// lifecycle limit or a SIGHUP, because clients wait in the socket's queue meanwhile.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tempDir } from '../helpers/daemon-process.js';
import { ids, lineFor } from '../helpers/profiles.js';
import { sendEachOnItsOwnConnection } from '../helpers/socket-client.js';
import { startActivatedDaemon, type ActivatedDaemon } from '../helpers/socket-activator.js';
import { startTestListener, type TestListener, type TestListenerOptions } from '../helpers/test-listener.js';
import { waitFor } from '../helpers/wait-for.js';

function forwardTo(listener: TestListener): Record<string, unknown> {
  return { forward: { url: listener.url, flushIntervalMs: 100, lingerMs: 50, connectTimeoutMs: 500, timeoutMs: 1_000 }, circuitBreaker: { retryTimeoutMs: 500 } };
}

function childrenOf(pid: number): string {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
}

/** A test listener and the daemon under the activator, forwarding to it; both stopped after the test. */
async function activatedWithListener(t: TestContext, listenerOptions: TestListenerOptions = {}, config: Record<string, unknown> = {}, dir = tempDir()): Promise<{ listener: TestListener; d: ActivatedDaemon }> {
  const listener = await startTestListener(listenerOptions);
  t.after(() => listener.close());
  const d = startActivatedDaemon(dir, { ...forwardTo(listener), ...config });
  t.after(() => d.activator.kill('SIGKILL'));
  return { listener, d };
}

async function delivered(listener: TestListener, expected: string[], what: string): Promise<void> {
  await waitFor(() => expected.every((id) => listener.uniqueIds().includes(id)), { timeoutMs: 20_000, what });
}

test('socket-activated, the daemon is one process: it accepts, forwards and answers /health by itself', async (t) => {
  const { listener, d } = await activatedWithListener(t);
  const first = await d.ready(1);
  const sent = ids(40, 'one');
  const { failures } = await sendEachOnItsOwnConnection(d.socketPath, sent.map((id) => lineFor(id)), 4);
  assert.deepEqual(failures, {});
  await delivered(listener, sent, 'all 40 profiles at the listener');
  const res = await fetch(`${first.healthUrl}/health`);
  const body = (await res.json()) as { status: string; process_model: string; stats: { worker: { pid: number }; ingest: { accepted: number } } };
  assert.equal(res.status, 200);
  assert.equal(body.status, 'ok');
  assert.equal(body.process_model, 'socket-activated');
  assert.equal(body.stats.worker.pid, first.pid);
  assert.equal(body.stats.ingest.accepted, 40);
  assert.equal(childrenOf(first.pid), '', 'no supervisor, no worker: the daemon starts no process of its own');
  assert.match(await (await fetch(`${first.healthUrl}/metrics`)).text(), /^bitville_daemon_worker_up 1$/m);
});

test('socket-activated: clients that connect while the daemon is SIGKILLed wait in the queue, none is refused, and the next process takes them', async (t) => {
  const { listener, d } = await activatedWithListener(t);
  const first = await d.ready(1);
  process.kill(first.pid, 'SIGKILL');
  const sent = ids(30, 'gap');
  const { failures } = await sendEachOnItsOwnConnection(d.socketPath, sent.map((id) => lineFor(id)), 4);
  assert.deepEqual(failures, {}, 'no ECONNREFUSED, no ENOENT while no daemon ran');
  const second = await d.ready(2);
  assert.notEqual(second.pid, first.pid);
  await delivered(listener, sent, 'the profiles sent during the gap, delivered by the next process');
});

test('socket-activated: at lifecycle.maxRequests it stops gracefully, memory goes to the spool, and the next process delivers it', async (t) => {
  // The listener refuses at first: nothing leaves memory meanwhile.
  const { listener, d } = await activatedWithListener(t, { mode: { kind: 'status', status: 503 } }, { lifecycle: { maxRequests: 25 } });
  const first = await d.ready(1);
  const sent = ids(60, 'limit');
  const { failures } = await sendEachOnItsOwnConnection(d.socketPath, sent.map((id) => lineFor(id)), 3);
  assert.deepEqual(failures, {});
  await waitFor(() => d.exits().get(first.pid) !== undefined, { timeoutMs: 15_000, what: 'the first process to exit at its limit' });
  assert.equal(d.exits().get(first.pid), 0, `a planned exit, not a crash:\n${d.output()}`);
  assert.match(d.output(), /"reason":"max_requests".*stopping for a replacement/);
  await d.ready(2);
  listener.setMode({ kind: 'ok' });
  await delivered(listener, sent, 'all 60 profiles, across the replacements');
  assert.ok(d.starts().length >= 3, `60 messages at 25 per process need three processes (started: ${d.starts().length})`);
});

test('socket-activated: SIGHUP with a valid config replaces the process; with an invalid one it keeps running', async (t) => {
  const dir = tempDir();
  const { listener, d } = await activatedWithListener(t, {}, {}, dir);
  const first = await d.ready(1);
  process.kill(first.pid, 'SIGHUP');
  await waitFor(() => d.exits().get(first.pid) === 0, { timeoutMs: 15_000, what: `a graceful exit after SIGHUP:\n${d.output()}` });
  const second = await d.ready(2);
  writeFileSync(`${dir}/daemon.yaml`, 'buffer: { mode: sideways }\n');
  process.kill(second.pid, 'SIGHUP');
  await waitFor(() => /config reload rejected/.test(d.output()), { what: 'the rejected reload in the log' });
  const res = await fetch(`${second.healthUrl}/health`);
  assert.equal(res.status, 200, 'still running with the old config');
  assert.equal(d.exits().get(second.pid), undefined);
  const sent = ids(5, 'hup');
  assert.deepEqual((await sendEachOnItsOwnConnection(d.socketPath, sent.map((id) => lineFor(id)), 1)).failures, {});
  await delivered(listener, sent, 'profiles sent after the rejected reload');
});
