/**
 * Load-generator child process: one connection per message, as PHP-FPM does (connect, write the
 * JSON line, close), with client-side latency from connect to close. Started by fork() from
 * ingest.bench; talks over IPC: it says 'ready' once its payload is built, starts on 'go', and
 * answers 'done' with its latencies.
 */
import { createConnection } from 'node:net';
import { performance } from 'node:perf_hooks';
import { buildProfileTemplate, correlationId, messageFor } from './payload.js';
import { exitWithParent } from './child.js';

exitWithParent();

export interface SenderConfig {
  socket: string;
  /** Messages this sender sends. */
  count: number;
  /** Connections in flight at once (max-throughput shape). */
  concurrency: number;
  /** Messages per second for this sender; 0 = as fast as possible. */
  ratePerSec: number;
  /** Start offset in ms for paced senders, so several senders interleave evenly. */
  offsetMs: number;
  index: number;
  runTag: number;
  sizeBytes: number;
}

export interface SenderResult {
  type: 'done';
  index: number;
  /** Client latency per message, connect to close, in microseconds. */
  latenciesUs: number[];
  bytes: number;
  /** Connection attempts that failed and were retried (e.g. EAGAIN when the backlog is full). */
  retries: number;
  /** Messages given up after repeated failures. */
  failed: number;
  /** Worst lateness of a paced send behind its schedule, ms (shows the sender itself lagging). */
  maxScheduleLagMs: number;
  elapsedMs: number;
  /** This sender's own CPU (user + system) during the run, µs: the load generator's cost. */
  cpuUs: number;
}

export type SenderMessage = { type: 'ready' } | SenderResult | { type: 'error'; message: string };
export type ParentMessage = { type: 'go' };

const MAX_ATTEMPTS = 50;

function attempt(path: string, msg: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let failed: Error | null = null;
    s.once('connect', () => s.end(msg));
    s.on('error', (err) => {
      failed = err;
    });
    s.once('close', () => (failed ? reject(failed) : resolve()));
    s.resume(); // we expect no data, but reading lets 'end' and 'close' arrive
  });
}

async function sendOne(path: string, msg: Buffer, stats: { retries: number }): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await attempt(path, msg);
      return;
    } catch (err) {
      if (i >= MAX_ATTEMPTS) throw err;
      stats.retries++;
      await new Promise((r) => setTimeout(r, Math.min(20, i)));
    }
  }
}

async function run(c: SenderConfig): Promise<SenderResult> {
  const template = buildProfileTemplate(c.sizeBytes);
  const latencies = new Array<number>(c.count).fill(Number.NaN);
  const stats = { retries: 0 };
  let failed = 0;
  let bytes = 0;
  let maxLag = 0;

  async function one(seq: number): Promise<void> {
    const msg = messageFor(template, correlationId(c.runTag, c.index, seq));
    const t0 = performance.now();
    try {
      await sendOne(c.socket, msg, stats);
      latencies[seq] = (performance.now() - t0) * 1000;
      bytes += msg.length;
    } catch {
      failed++;
    }
  }

  process.send?.({ type: 'ready' } satisfies SenderMessage);
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const start = performance.now();
  const cpuStart = process.cpuUsage();

  if (c.ratePerSec <= 0) {
    let next = 0;
    const worker = async () => {
      while (next < c.count) await one(next++);
    };
    await Promise.all(Array.from({ length: Math.max(1, c.concurrency) }, worker));
  } else {
    // Open loop: message i is due at offset + i * interval, whatever the previous ones do.
    const interval = 1000 / c.ratePerSec;
    const inFlight: Array<Promise<void>> = [];
    let next = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now() - start;
        while (next < c.count && c.offsetMs + next * interval <= now) {
          maxLag = Math.max(maxLag, now - (c.offsetMs + next * interval));
          inFlight.push(one(next++));
        }
        if (next >= c.count) return resolve();
        setTimeout(tick, Math.max(0, c.offsetMs + next * interval - (performance.now() - start)));
      };
      tick();
    });
    await Promise.all(inFlight);
  }

  const cpu = process.cpuUsage(cpuStart);
  return {
    type: 'done',
    cpuUs: cpu.user + cpu.system,
    index: c.index,
    latenciesUs: latencies.filter((x) => Number.isFinite(x)).map((x) => Math.round(x)),
    bytes,
    retries: stats.retries,
    failed,
    maxScheduleLagMs: Math.round(maxLag * 100) / 100,
    elapsedMs: performance.now() - start,
  };
}

const config = JSON.parse(process.env.BENCH_SENDER ?? 'null') as SenderConfig | null;
if (!config || !process.send) {
  console.error('sender.js is started by ingest.bench with BENCH_SENDER set and an IPC channel');
  process.exit(2);
}
run(config).then(
  (result) => process.send?.(result, () => process.disconnect()),
  (err: unknown) => {
    process.send?.({ type: 'error', message: (err as Error).message } satisfies SenderMessage, () => process.exit(1));
  },
);
