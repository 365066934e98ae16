import { test } from 'node:test';
import assert from 'node:assert/strict';
import { takeActivatedSockets } from './socket-activation.js';

test('socket activation: fds from 3 on when LISTEN_PID is ours, and the variables are gone afterwards', () => {
  const env: NodeJS.ProcessEnv = { LISTEN_FDS: '2', LISTEN_PID: '4242', LISTEN_FDNAMES: 'daemon.sock:udp', PATH: '/bin' };
  assert.deepEqual(takeActivatedSockets(env, 4242), [3, 4]);
  assert.deepEqual(env, { PATH: '/bin' });
});

test('socket activation: sockets meant for another process (an inherited environment) or none at all', () => {
  assert.equal(takeActivatedSockets({ LISTEN_FDS: '1', LISTEN_PID: '1' }, 4242), null);
  assert.equal(takeActivatedSockets({ LISTEN_FDS: '0', LISTEN_PID: '4242' }, 4242), null);
  assert.equal(takeActivatedSockets({ LISTEN_FDS: 'x', LISTEN_PID: '4242' }, 4242), null);
  const env: NodeJS.ProcessEnv = { LISTEN_FDS: '1', LISTEN_PID: '1' };
  takeActivatedSockets(env, 4242);
  assert.deepEqual(env, {}, 'a child we start must not see them either');
  assert.equal(takeActivatedSockets({}, 4242), null);
});
