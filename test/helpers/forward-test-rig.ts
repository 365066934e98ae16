import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { DaemonConfig } from '../../src/shared/config/daemon-config.js';
import { createBufferedQueue } from '../../src/daemon/buffer/buffered-queue.js';
import type { Queue } from '../../src/daemon/buffer/queue.js';
import { createDaemonMetrics } from '../../src/daemon/telemetry/daemon-metrics.js';
import { createSpool } from '../../src/daemon/spool/spool.js';
import { createForwarder, type Forwarder, type ForwarderOptions } from '../../src/daemon/forward/forwarder.js';

/**
 * Test wiring for the forwarder tests: the REAL buffered queue over a real spool in a mkdtemp
 * dir, as main.ts builds them, with small timeouts so failures cost milliseconds. Not used by
 * the daemon.
 */
export interface Rig {
  dir: string;
  queue: Queue;
  forwarder: Forwarder;
  /** The Prometheus text of the daemon registry the forwarder registered into. */
  metricsText(): Promise<string>;
  /** Offers items like ingest does: waits while the queue is congested. */
  offer(ids: readonly string[]): Promise<void>;
  spoolFiles(): Promise<string[]>;
  /** Items of all spool segments on disk, in file order. */
  spoolIds(): Promise<string[]>;
  quarantineFiles(): Promise<string[]>;
  stop(drainMs?: number): Promise<void>;
}

export interface RigOptions {
  url: string;
  /** Several listener URLs (forward.urls); default [url]. */
  urls?: string[];
  dir?: string;
  memoryItems?: number;
  mode?: 'memory' | 'durable';
  forward?: Partial<Omit<DaemonConfig['forward'], 'url'>>;
  circuitBreaker?: Partial<DaemonConfig['circuitBreaker']>;
  forwarder?: Partial<ForwarderOptions>;
  start?: boolean;
}

export const silentLog = pino({ level: process.env.FORWARD_TEST_LOG ?? 'silent' });

export function item(id: string, padBytes = 100): Buffer {
  return Buffer.from(JSON.stringify({ correlation_id: id, project: 'shop', custom: { pad: 'x'.repeat(padBytes) } }));
}

export function ids(n: number, prefix = 'id'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(6, '0')}`);
}

export async function startRig(o: RigOptions): Promise<Rig> {
  const dir = o.dir ?? (await mkdtemp(join(tmpdir(), 'bitville-forward-')));
  const paths = { spool: join(dir, 'buffer'), quarantine: join(dir, 'quarantine'), state: join(dir, 'state') };
  const metrics = createDaemonMetrics();
  const busy = new Set<string>();
  const spool = createSpool({
    dir: paths.spool,
    quarantineDir: paths.quarantine,
    maxBytes: 1 << 30,
    minFreeBytes: 0,
    whenFull: 'drop_oldest',
    isBusy: (name) => busy.has(name),
    onDrop: () => undefined,
  });
  await spool.recover();
  await mkdir(paths.state, { recursive: true });
  const queue = createBufferedQueue({
    mode: o.mode ?? 'memory',
    memoryItems: o.memoryItems ?? 50,
    memoryBytes: 32 << 20,
    fsyncMs: 200,
    commitDelayMs: 5,
    spoolMaxBytes: 1 << 30,
    spool,
    busySegments: busy,
    metrics,
    log: silentLog,
  });
  const forwarder = createForwarder({
    queue,
    urls: o.urls ?? [o.url],
    forward: {
      url: o.url,
      urls: null,
      token: 't',
      batchItems: 100,
      batchBytes: 4 << 20,
      lingerMs: 20,
      concurrency: 1,
      connectTimeoutMs: 300,
      timeoutMs: 300,
      compression: 'gzip',
      compressionLevel: 1,
      ...o.forward,
    },
    circuitBreaker: { failureThreshold: 5, retryTimeoutMs: 400, ...o.circuitBreaker },
    stateDir: paths.state,
    quarantineDir: paths.quarantine,
    registry: metrics.registry,
    onSpoolReadError: () => metrics.spoolReadFailed(),
    log: silentLog,
    backoff: { baseMs: 10, capMs: 50 },
    breakerInitialMs: 100,
    ...o.forwarder,
  });
  if (o.start !== false) await forwarder.start();
  const segmentFiles = async (): Promise<string[]> => (await readdir(paths.spool)).filter((n) => n.endsWith('.ndjson')).sort();
  return {
    dir,
    queue,
    forwarder,
    metricsText: () => metrics.registry.metrics(),
    async offer(list) {
      for (const id of list) {
        if (queue.congested()) await new Promise<void>((r) => queue.whenRelieved(r));
        queue.offer(item(id), 'unix');
      }
    },
    spoolFiles: segmentFiles,
    async spoolIds() {
      const out: string[] = [];
      for (const name of await segmentFiles()) {
        for (const line of (await readFile(join(paths.spool, name), 'utf8')).split('\n')) {
          if (line) out.push(String((JSON.parse(line) as { correlation_id: unknown }).correlation_id));
        }
      }
      return out;
    },
    quarantineFiles: async () => (await readdir(paths.quarantine).catch(() => [] as string[])).sort(),
    async stop(drainMs = 1_000) {
      await forwarder.stop(drainMs);
      await queue.stop(); // the graceful flush: memory -> spool
    },
  };
}

/** The forward stats /health would show, typed loosely for assertions. */
export function forwardStats(f: Forwarder): Record<string, unknown> & { failures_by_kind: Record<string, number> } {
  return f.health().stats as Record<string, unknown> & { failures_by_kind: Record<string, number> };
}
