import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workerExecArgv } from './worker-node-flags.js';

test('the worker gets the small young generation unless the operator chose its size', () => {
  assert.deepEqual(workerExecArgv([], undefined), ['--max-semi-space-size=2']);
  assert.deepEqual(workerExecArgv(['--enable-source-maps'], ''), ['--enable-source-maps', '--max-semi-space-size=2']);
  // theirs wins, on the command line or in NODE_OPTIONS, in either spelling
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=16'], undefined), ['--max-semi-space-size=16']);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=64 --max_semi_space_size=8'), []);
});
