/**
 * `bitville-apm up` keeps both parts running: one that dies is restarted with backoff, and the
 * other is left alone (issue 11).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, tempDir } from '../helpers/daemon-process.js';
import { profile } from '../helpers/profiles.js';
import { sendOverConnections } from '../helpers/socket-client.js';
import { spawnTracked } from '../helpers/tracked-process.js';
import { waitFor } from '../helpers/wait-for.js';

function readPid(file: string): number | null {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid;
  } catch {
    return null;
  }
}

test('`up` restarts a SIGKILLed daemon while its listener stays up, and profiles flow again', async () => {
  const upDir = join(tempDir('bitville-up-restart-'), '.bitville');
  const { proc: up, output, exited } = spawnTracked(process.execPath, [CLI, 'up', '--dir', upDir, '--listen', '127.0.0.1:0', '--health', '127.0.0.1:0']);
  try {
    await waitFor(() => output().includes('Bitville APM is up.'), { timeoutMs: 30_000, what: `up to print its summary:\n${output()}` });
    const info = JSON.parse(readFileSync(join(upDir, 'up.json'), 'utf8')) as { socket: string; listenerUrl: string; token: string; health: string };
    const listenerPid = readPid(join(upDir, 'listener', 'listener.json'));
    const daemonFile = join(upDir, 'daemon', 'state', 'daemon.json');
    const firstDaemon = readPid(daemonFile);
    assert.ok(listenerPid && firstDaemon);

    process.kill(firstDaemon, 'SIGKILL');
    // The listener answers all along (it is not stopped with the daemon).
    const listenerHealthy = async () => (await fetch(`${info.listenerUrl}/health`)).status === 200;
    assert.ok(await listenerHealthy());
    const secondDaemon = await waitFor(() => {
      const pid = readPid(daemonFile);
      return pid !== null && pid !== firstDaemon ? pid : null;
    }, { timeoutMs: 20_000, what: `a new daemon; up said:\n${output()}` });
    assert.ok(await listenerHealthy());
    assert.equal(readPid(join(upDir, 'listener', 'listener.json')), listenerPid, 'the listener was not restarted');
    assert.match(output(), /daemon exited unexpectedly \(SIGKILL\); restarting it in \d+ ms/);

    // Same health address (pinned after the first start) and the same socket path.
    const health = await waitFor(async () => {
      const res = await fetch(`${info.health}/health`);
      return res.status === 200 ? ((await res.json()) as { status: string }) : null;
    }, { timeoutMs: 10_000, what: 'the restarted daemon on the same health address' });
    assert.equal(health.status, 'ok');
    assert.notEqual(secondDaemon, firstDaemon);

    await sendOverConnections(info.socket, [JSON.stringify(profile('after-restart-1', 200, 'restart')) + '\n'], 1);
    await waitFor(async () => {
      const res = await fetch(`${info.listenerUrl}/api/v1/requests?project=restart`, { headers: { authorization: `Bearer ${info.token}` } });
      return ((await res.json()) as { items: unknown[] }).items.length === 1;
    }, { timeoutMs: 15_000, what: 'the profile sent after the restart in the listener' });
  } finally {
    up.kill('SIGTERM');
  }
  assert.equal(await exited, 0, output());
});
