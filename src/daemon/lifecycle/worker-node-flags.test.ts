import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workerExecArgv } from './worker-node-flags.js';

const DEFAULTS = ['--max-semi-space-size=2', '--initial-old-space-size=24', '--max-old-space-size=512'];

test('the worker gets the small young generation, the larger first old generation and the old-generation cap unless the operator chose them', () => {
  assert.deepEqual(workerExecArgv([], undefined), DEFAULTS);
  assert.deepEqual(workerExecArgv(['--enable-source-maps'], ''), ['--enable-source-maps', ...DEFAULTS]);
  // theirs wins, on the command line or in NODE_OPTIONS, in either spelling, one flag at a time
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=16'], undefined), ['--max-semi-space-size=16', '--initial-old-space-size=24', '--max-old-space-size=512']);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=64 --max_semi_space_size=8'), ['--initial-old-space-size=24']);
  assert.deepEqual(workerExecArgv([], '--initial_old_space_size=8 --max-semi-space-size=4'), ['--max-old-space-size=512']);
  assert.deepEqual(workerExecArgv(['--max_old_space_size=1024'], '--initial-old-space-size=8 --max-semi-space-size=4'), ['--max_old_space_size=1024']);
});
