// Issue 3's whole-process forwarding tests: a real daemon process forwarding to the real HTTP
// test listener, which fails in every way the forwarder must survive (DESIGN sections 3 and 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawnDaemon, tempDir, type DaemonHandle } from '../helpers/daemon-process.js';
import { ids, lineFor } from '../helpers/profiles.js';
import { sendOnce, sendOverConnections } from '../helpers/socket-client.js';
import { spoolFiles, spoolIds } from '../helpers/spool-files.js';
import { startTestListener, type ListenerMode, type TestListener } from '../helpers/test-listener.js';
import { waitFor } from '../helpers/wait-for.js';

const TOKEN = 'e2e-token';

interface ForwardStats {
  batches_sent: number;
  items_sent: number;
  failures_by_kind: Record<string, number>;
  backlog_items: number;
  quarantined_batches: number;
  quarantined_items: number;
}
interface CircuitHealth {
  state: string;
  failure_count: number;
  opened_at: number | null;
}

/** Small timeouts and intervals so a test spends seconds, not minutes, in backoff. */
function forwardConfig(listener: TestListener, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    forward: { url: listener.url, token: TOKEN, flushIntervalMs: 100, connectTimeoutMs: 500, timeoutMs: 1_000, ...over },
    circuitBreaker: { retryTimeoutMs: 500 },
  };
}

async function forwardStats(d: DaemonHandle): Promise<ForwardStats> {
  return (await d.health()).body.stats.forward as ForwardStats;
}

async function circuit(d: DaemonHandle): Promise<{ status: number; overall: string; cb: CircuitHealth }> {
  const { status, body } = await d.health();
  return { status, overall: body.status, cb: body.stats.circuit_breaker as CircuitHealth };
}

/** Finished segments (the spool's own files), ignoring the lock, temp files and anything else. */
const segments = (d: DaemonHandle): string[] => spoolFiles(d.dataDir).filter((n) => n.endsWith('.ndjson'));

async function allDelivered(listener: TestListener, expected: readonly string[], timeoutMs: number): Promise<void> {
  const want = new Set(expected);
  await waitFor(
    () => {
      const got = new Set(listener.uniqueIds());
      return [...want].every((id) => got.has(id));
    },
    { timeoutMs, intervalMs: 100, what: `all ${want.size} ids at the listener (have ${listener.uniqueIds().length})` },
  );
}

async function spoolEmpty(d: DaemonHandle): Promise<void> {
  await waitFor(async () => segments(d).length === 0 && (await forwardStats(d)).backlog_items === 0, {
    timeoutMs: 10_000,
    what: `an empty spool (left: ${segments(d).join(', ')})`,
  });
}

async function stop(d: DaemonHandle): Promise<void> {
  d.kill('SIGTERM');
  assert.equal(await d.exited, 0, d.output());
}

test('listener down while 10,000 messages arrive: the spool overflows, then everything is delivered in arrival order without a restart', async () => {
  const listener = await startTestListener({ token: TOKEN });
  await listener.down();
  const daemon = await spawnDaemon(tempDir(), forwardConfig(listener));
  try {
    const lines = ids(10_000, 'outage').map((id) => lineFor(id));
    const shares = await sendOverConnections(daemon.socketPath, lines, 4);
    await waitFor(async () => (await daemon.accepted()) === 10_000, { what: '10,000 accepted' });
    const spooled = segments(daemon).length;
    assert.ok(spooled >= 50, `memory (100 items) overflowed to many segments, got ${spooled}`);
    assert.equal(listener.requests(), 0, 'nothing reached a listener that was down');
    const pid = daemon.proc.pid;

    await listener.up();
    await allDelivered(listener, lines.map((l) => (JSON.parse(l) as { correlation_id: string }).correlation_id), 30_000);
    await spoolEmpty(daemon);

    assert.equal(listener.allIds().length, 10_000, 'a healthy listener sees each message exactly once');
    const position = new Map(listener.allIds().map((id, i) => [id, i]));
    for (const share of shares) {
      const order = share.map((l) => position.get((JSON.parse(l) as { correlation_id: string }).correlation_id) ?? -1);
      assert.ok(order.every((p, i) => i === 0 || p > (order[i - 1] as number)), 'each connection’s messages arrive in the order it sent them');
    }
    assert.equal(daemon.proc.pid, pid);
    assert.equal(daemon.proc.exitCode, null, 'no restart was needed');
    assert.equal((await circuit(daemon)).cb.state, 'closed');
  } finally {
    await stop(daemon);
    await listener.close();
  }
});

test('listener flapping (503, resets, timeouts, slow answers) during 20,000 messages: every id delivered, duplicates only from lost answers', async () => {
  const cycle: ListenerMode[] = [
    { kind: 'ok' },
    { kind: 'status', status: 503 },
    { kind: 'reset' },
    { kind: 'ok' },
    { kind: 'reset_after_store' },
    { kind: 'slow', delayMs: 200 }, // answered in time
    { kind: 'hang' }, // the forwarder's request timeout ends it
    { kind: 'ok' },
    { kind: 'slow', delayMs: 1_600 }, // stored, but the answer comes after the 1 s timeout: lost
    { kind: 'status', status: 502 },
  ];
  const listener = await startTestListener({ token: TOKEN, mode: (n) => cycle[n % cycle.length] as ListenerMode });
  const daemon = await spawnDaemon(tempDir(), forwardConfig(listener, { batchItems: 1_000 }));
  try {
    const all = ids(20_000, 'flap');
    await sendOverConnections(daemon.socketPath, all.map((id) => lineFor(id)), 4);
    await allDelivered(listener, all, 60_000);
    await spoolEmpty(daemon);

    const log = listener.log();
    const kinds = new Set(log.map((r) => r.mode));
    for (const k of ['status', 'reset', 'reset_after_store', 'hang', 'slow'] as const) assert.ok(kinds.has(k), `the run saw a ${k} answer`);
    // For each id, every occurrence but the last must be in a request whose 2xx never reached the daemon.
    const occurrences = new Map<string, boolean[]>();
    for (const r of log) for (const item of r.items) {
      const id = String(item.correlation_id);
      occurrences.set(id, [...(occurrences.get(id) ?? []), r.answered]);
    }
    let duplicates = 0;
    for (const [id, answered] of occurrences) {
      duplicates += answered.length - 1;
      assert.ok(answered.slice(0, -1).every((a) => !a), `${id} was sent again after an answered delivery: ${answered.join(',')}`);
    }
    const lost = log.filter((r) => r.items.length > 0 && !r.answered).reduce((n, r) => n + r.items.length, 0);
    assert.ok(duplicates <= lost, `duplicates (${duplicates}) are bounded by items in lost answers (${lost})`);
    const stats = await forwardStats(daemon);
    assert.ok((stats.failures_by_kind.timeout ?? 0) >= 1, `timeouts counted: ${JSON.stringify(stats.failures_by_kind)}`);
  } finally {
    await stop(daemon);
    await listener.close();
  }
});

test('a batch the listener refuses with 400 is quarantined with the response; the rest is delivered', async () => {
  const listener = await startTestListener({ token: TOKEN, mode: (n) => (n === 1 ? { kind: 'status', status: 400, body: '{"error":"bad batch"}' } : { kind: 'ok' }) });
  const daemon = await spawnDaemon(tempDir(), forwardConfig(listener, { batchItems: 500 }));
  try {
    const all = ids(2_000, 'q');
    for (let i = 0; i < all.length; i += 500) await sendOnce(daemon.socketPath, all.slice(i, i + 500).map((id) => lineFor(id)).join(''));
    const quarantine = join(daemon.dataDir, 'quarantine');
    const quarantinedIds = (): string[] =>
      readdirSync(quarantine)
        .filter((n) => n.startsWith('forward-') && n.endsWith('.ndjson'))
        .flatMap((n) => readFileSync(join(quarantine, n), 'utf8').split('\n').filter(Boolean))
        .map((l) => (JSON.parse(l) as { correlation_id: string }).correlation_id);
    await waitFor(() => listener.uniqueIds().length + quarantinedIds().length === all.length, { timeoutMs: 20_000, what: 'every id delivered or quarantined' });
    await spoolEmpty(daemon);

    const q = quarantinedIds();
    assert.ok(q.length > 0 && q.length <= 500, `one batch quarantined (${q.length} items)`);
    const delivered = new Set(listener.uniqueIds());
    assert.ok(q.every((id) => !delivered.has(id)), 'quarantined items were not also delivered');
    assert.deepEqual([...delivered, ...q].sort(), [...all].sort());
    const response = readdirSync(quarantine).find((n) => n.startsWith('forward-') && n.endsWith('.response.json'));
    assert.ok(response, 'the listener’s answer is kept beside the batch');
    assert.match(readFileSync(join(quarantine, response), 'utf8'), /bad batch/);
    const stats = await forwardStats(daemon);
    assert.equal(stats.quarantined_batches, 1);
    assert.equal(stats.quarantined_items, q.length);
  } finally {
    await stop(daemon);
    await listener.close();
  }
});

test('SIGTERM with a batch in flight to a slow listener: nothing lost, nothing half-deleted, all delivered after restart', async () => {
  const listener = await startTestListener({ token: TOKEN, mode: { kind: 'slow', delayMs: 5_000 } });
  const dir = tempDir();
  const config = { ...forwardConfig(listener, { timeoutMs: 10_000, batchItems: 300 }), shutdown: { drainMs: 500 } };
  const first = await spawnDaemon(dir, config);
  const all = ids(1_000, 'term');
  await sendOnce(first.socketPath, all.map((id) => lineFor(id)).join(''));
  await waitFor(() => listener.log().some((r) => r.items.length > 0), { what: 'a batch in flight at the listener' });
  first.kill('SIGTERM');
  assert.equal(await first.exited, 0, first.output());

  const inFlight = listener.log().flatMap((r) => r.items.map((i) => String(i.correlation_id)));
  assert.ok(inFlight.length > 0 && listener.log().every((r) => !r.answered), 'the slow answer never reached the daemon');
  assert.deepEqual(new Set(spoolIds(first.dataDir)), new Set(all), 'the unanswered batch went back to the spool whole, with everything else');

  listener.setMode({ kind: 'ok' });
  const second = await spawnDaemon(dir, config);
  try {
    await allDelivered(listener, all, 20_000);
    await spoolEmpty(second);
  } finally {
    await stop(second);
    await listener.close();
  }
});

test('a listener that accepts and never answers: ingest stays fast, the circuit opens (degraded, 200) and survives a restart, then everything is delivered', async () => {
  const listener = await startTestListener({ token: TOKEN, mode: { kind: 'hang' } });
  const dir = tempDir();
  const config = {
    ...forwardConfig(listener, { timeoutMs: 300, connectTimeoutMs: 300, batchItems: 100 }),
    circuitBreaker: { retryTimeoutMs: 4_000 },
  };
  const first = await spawnDaemon(dir, config);
  const all = ids(2_000, 'hang');
  const latenciesMs: number[] = [];
  const failures: string[] = [];
  for (const id of all) {
    const t0 = performance.now();
    try {
      await sendOnce(first.socketPath, lineFor(id));
    } catch (err) {
      failures.push((err as NodeJS.ErrnoException).code ?? String(err));
    }
    latenciesMs.push(performance.now() - t0);
  }
  latenciesMs.sort((a, b) => a - b);
  const p99 = latenciesMs[Math.ceil(latenciesMs.length * 0.99) - 1] as number;
  console.log(`# hanging listener: client send p50 ${latenciesMs[latenciesMs.length >> 1]?.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, max ${latenciesMs.at(-1)?.toFixed(3)} ms`);
  assert.deepEqual(failures, [], 'no connection refused or failed');
  // 1 ms is the target on an idle machine; on this shared 2-core box assert a bound that
  // still proves ingest does not wait for the forwarder (a request timeout here is 300 ms).
  assert.ok(p99 < 20, `client send p99 ${p99.toFixed(3)} ms`);
  assert.ok(listener.connections() >= 1, 'the forwarder did reach the listener');

  const opened = await waitFor(
    async () => {
      const c = await circuit(first);
      return c.cb.state === 'open' ? c : null;
    },
    { timeoutMs: 20_000, intervalMs: 50, what: 'the circuit to open' },
  );
  assert.equal(opened.status, 200);
  assert.equal(opened.overall, 'degraded');
  assert.ok(((await forwardStats(first)).failures_by_kind.timeout ?? 0) >= 5, 'request timeouts counted');
  assert.equal(listener.uniqueIds().length, 0);
  first.kill('SIGTERM');
  assert.equal(await first.exited, 0, first.output());

  const second = await spawnDaemon(dir, config);
  try {
    const restored = await circuit(second);
    assert.notEqual(restored.cb.state, 'closed', 'the open circuit was restored from the state file');
    assert.ok(restored.cb.opened_at !== null);
    listener.setMode({ kind: 'ok' });
    await allDelivered(listener, all, 30_000);
    await spoolEmpty(second);
    const healed = await circuit(second);
    assert.equal(healed.cb.state, 'closed');
    assert.equal(healed.overall, 'ok');
  } finally {
    await stop(second);
    await listener.close();
  }
});
