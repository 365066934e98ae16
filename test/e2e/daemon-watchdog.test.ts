import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sendAcked } from '../../src/shared/client/daemon-client.js';
import { spawnDaemon, tempDir } from '../helpers/daemon-process.js';
import { waitFor } from '../helpers/wait-for.js';

const profile = (id: string): string => JSON.stringify({ correlation_id: id, project: 'watchdog' });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a worker that stops answering is killed after lifecycle.unresponsiveMs and replaced; the socket keeps accepting', async () => {
  const daemon = await spawnDaemon(tempDir(), { lifecycle: { unresponsiveMs: 1_500 } });
  const stuck = await daemon.workerPid();
  try {
    assert.equal((await sendAcked(daemon.socketPath, [profile('before')], 2_000)).kind, 'acked');
    process.kill(stuck, 'SIGSTOP'); // an event loop that never comes back: no heartbeat, no answer, no exit

    // a PHP client meanwhile: its connection waits in the backlog the supervisor holds, and the
    // new worker answers it (the client's own budget may run out first: then it writes its inbox file)
    const during = sendAcked(daemon.socketPath, [profile('during')], 15_000);
    const next = await waitFor(
      async () => {
        const pid = await daemon.workerPid().catch(() => stuck);
        return pid !== stuck ? pid : null;
      },
      { timeoutMs: 15_000, what: 'a new worker' },
    );
    assert.equal(alive(stuck), false, 'the stuck worker was killed');
    assert.notEqual(next, stuck);
    assert.equal((await during).kind, 'acked', 'the connection made while the worker was stuck was answered');
    assert.equal((await sendAcked(daemon.socketPath, [profile('after')], 2_000)).kind, 'acked');

    const { body } = await daemon.health();
    assert.equal(body.supervisor.restarts_by_reason['unresponsive'], 1, JSON.stringify(body.supervisor));
    assert.match(daemon.output(), /worker unresponsive: no heartbeat; killing it/);
  } finally {
    if (alive(stuck)) process.kill(stuck, 'SIGKILL');
    daemon.kill('SIGTERM');
    await daemon.exited;
  }
});

test('lifecycle.unresponsiveMs 0 turns the watchdog off', async () => {
  const daemon = await spawnDaemon(tempDir(), { lifecycle: { unresponsiveMs: 0 } });
  const stuck = await daemon.workerPid();
  try {
    process.kill(stuck, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 2_500)); // longer than the 1.5 s the test above needs
    assert.equal(alive(stuck), true, 'nobody killed the stopped worker');
    assert.doesNotMatch(daemon.output(), /worker unresponsive/);
  } finally {
    process.kill(stuck, 'SIGKILL');
    daemon.kill('SIGTERM');
    await daemon.exited;
  }
});
