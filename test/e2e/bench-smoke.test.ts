import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PROJECT = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/e2e -> project root

// The README documents `npm run bench`; this runs the same runner on a tiny workload so the
// command keeps working. It asserts that numbers come out, never how good they are.
test('the benchmark runner completes a tiny ingest scenario (both shapes) and writes its results', async () => {
  const code = await new Promise<number | null>((resolve) => {
    const p = spawn(process.execPath, ['dist/bench/run.js', '--only', 'ingest', '--messages', '400', '--rounds', '1', '--shapes', 'throughput,rate', '--rate', '200', '--rate-seconds', '1', '--warmup-seconds', '0.5', '--variants', 'sink,memory'], {
      cwd: PROJECT,
      stdio: 'ignore',
    });
    p.on('exit', resolve);
  });
  assert.equal(code, 0);
  const results = JSON.parse(readFileSync(`${PROJECT}/bench/results/ingest.json`, 'utf8')) as {
    config: { messages: number };
    summaries: { throughput: Array<{ variant: string; msgsPerSec: number; cpuUsPerMsg: number }>; rate: Array<{ variant: string; p99Us: number; steadyP99Us: number }> };
  };
  assert.equal(results.config.messages, 400);
  const variants = results.summaries.throughput.map((r) => r.variant).sort();
  assert.deepEqual(variants, ['memory', 'sink']);
  for (const r of results.summaries.throughput) assert.ok(r.msgsPerSec > 0 && r.cpuUsPerMsg > 0, `${r.variant} measured nothing`);
  // the fixed-rate p99, over the whole run and without the warm-up second, both reported
  assert.deepEqual(results.summaries.rate.map((r) => r.variant).sort(), ['memory', 'sink']);
  for (const r of results.summaries.rate) assert.ok(r.p99Us > 0 && r.steadyP99Us > 0, `${r.variant}: ${JSON.stringify(r)}`);
});
