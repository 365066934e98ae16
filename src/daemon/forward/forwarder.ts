import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DaemonConfig } from '../../shared/config/daemon-config.js';
import { forwardLingerMs } from '../../shared/config/forward-settings.js';
import { rateLimitedLog } from '../../shared/telemetry/rate-limited-log.js';
import type { Batch, Queue } from '../buffer/queue.js';
import type { ForwardHealth } from './forward-health.js';
import type { BreakerRun } from './breaker.js';
import { encodeBatch } from './batch-body.js';
import { BACKOFF_DEFAULTS, backoffMs, type BackoffOptions } from './backoff.js';
import { whenBatchReady, waitingItems } from './batcher.js';
import { forwardHealth } from './forward-stats.js';
import { createForwardMetrics } from './forward-metrics.js';
import { quarantineBatch } from './quarantine-batch.js';
import type { SendOutcome } from './send-outcome.js';
import { createSendTarget, type SendTarget } from './send-target.js';
import { createSleeper } from './sleeper.js';
import { chooseTarget } from './target-choice.js';

export interface ForwarderOptions {
  queue: Queue;
  /** The listener URLs (forward.urls, or the one forward.url); at least one. */
  urls: readonly string[];
  forward: DaemonConfig['forward'];
  circuitBreaker: DaemonConfig['circuitBreaker'];
  /** Holds the circuit breaker state files. */
  stateDir: string;
  /** Permanently refused batches go here. */
  quarantineDir: string;
  /** The daemon's prom-client registry (DaemonMetrics.registry). */
  registry: Registry;
  /** A spool segment could not be read: a disk problem, reported as such (not a listener failure). */
  onSpoolReadError: (err: unknown) => void;
  log: Logger;
  now?: () => number;
  random?: () => number;
  /** Retry backoff between failed sends. Default base 500 ms, cap 60 s. */
  backoff?: BackoffOptions;
  /** First open period of the circuit; doubles up to circuitBreaker.retryTimeoutMs. Default 1000 ms. */
  breakerInitialMs?: number;
}

export interface Forwarder {
  /** Restores the circuit states and starts sending. Resolves once running. */
  start(): Promise<void>;
  /**
   * Stops taking batches; waits up to `drainMs` for the answer to a batch in flight, then gives
   * it up and releases it to the queue (it stays in memory or spool for the graceful flush).
   * Never leaves a batch half-acknowledged. Idempotent.
   */
  stop(drainMs: number): Promise<void>;
  /** The /health `circuit_breaker` and `forward` sections. */
  health(): ForwardHealth;
}

interface InFlight {
  abort: AbortController;
  done: Promise<void>;
}

/** A batch taken from the queue, with its request body being encoded (gzip runs in the libuv pool). */
interface Taken {
  batch: Batch;
  body: Promise<readonly Buffer[]>;
}

/** How long a lane waits when a take found nothing (everything in flight on other lanes). */
const NOTHING_TO_TAKE_MS = 10;

/**
 * The daemon's sink (DESIGN sections 4 and 11): oldest batch first from the queue, (gzip) NDJSON
 * to a listener, acknowledged only on 2xx, retried with full-jitter backoff, quarantined on a
 * permanent 4xx. Each listener URL has its own circuit breaker and backoff (send-target.ts);
 * a batch goes to the next URL in turn that may send, so daemons spread over several listeners
 * and fail over when one is down. With concurrency 1 (default) delivery stays FIFO.
 *
 * While a batch is in flight after a delivered one, a lane takes the next batch as soon as it is
 * ready and encodes it, so it leaves the moment the answer comes (issue 10): a full memory buffer
 * then waits in the forwarder's hands instead of going to disk. Each lane holds at most one batch
 * in flight and one ahead; on any outcome but delivered the one ahead goes back first (it is the
 * newer), so the queue keeps its order.
 */
export function createForwarder(o: ForwarderOptions): Forwarder {
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  const backoff = o.backoff ?? BACKOFF_DEFAULTS;
  const log = o.log.child({ component: 'forwarder' });
  const logLimited = rateLimitedLog(log, 10_000, now);
  const metrics = createForwardMetrics(o.registry);
  const sleeper = createSleeper();
  const inFlight = new Set<InFlight>();
  const policy = { batchItems: o.forward.batchItems, batchBytes: o.forward.batchBytes, lingerMs: forwardLingerMs(o.forward) };
  let targets: SendTarget[] = [];
  let lanes: Promise<void>[] = [];
  let running = false;
  let stopping: Promise<void> | null = null;
  let nextTarget = Math.floor(random() * 1_000); // daemons start at different URLs of the list
  let spoolReadFailures = 0;
  let kick: () => void = () => undefined;
  let kicked = new Promise<void>((r) => (kick = r));

  function wake(): void {
    kick();
    kicked = new Promise<void>((r) => (kick = r));
  }

  async function lane(): Promise<void> {
    let ahead: Promise<Taken | null> | null = null; // taken while the previous batch was in flight
    try {
      while (running) {
        const choice = chooseTarget(targets, nextTarget);
        if (choice.kind === 'wait') {
          await Promise.race([sleeper.sleep(choice.ms), sleeper.until(kicked)]); // kicked: a target's /ready answered
          continue;
        }
        let taken: Taken | null;
        if (ahead) {
          taken = await ahead;
          ahead = null;
        } else {
          if (!(await whenBatchReady(o.queue, policy, sleeper, () => running))) return;
          if (choice.target.waitMs() > 0) continue; // another lane failed on it meanwhile
          taken = await takeBatch();
        }
        if (!taken) continue;
        if (!running) {
          o.queue.release(taken.batch); // stop() began while take() was reading the spool: send nothing new
          return;
        }
        nextTarget = targets.indexOf(choice.target) + 1; // round robin over the targets that may send
        const abort = new AbortController();
        const sending = send(choice.target, taken.body, abort.signal);
        const entry: InFlight = { abort, done: sending.then(() => undefined) };
        inFlight.add(entry);
        let run: BreakerRun;
        try {
          if (choice.target.healthy()) ahead = takeAhead(sending);
          run = await sending;
        } finally {
          inFlight.delete(entry);
        }
        const delivered = run.kind === 'ran' && run.outcome.kind === 'delivered';
        if (!delivered && ahead) {
          await releaseAhead(ahead); // before this batch goes back: the one ahead is newer
          ahead = null;
        }
        await settle(choice.target, taken.batch, run);
      }
    } finally {
      if (ahead) await releaseAhead(ahead);
    }
  }

  /** A batch and its body, or null (nothing to take, or a spool read failed and was counted). */
  async function takeBatch(): Promise<Taken | null> {
    let batch: Batch | null;
    try {
      batch = await o.queue.take(o.forward.batchItems, o.forward.batchBytes);
    } catch (err) {
      // The disk, not the listener: counted and reported as a spool problem (issue 10).
      spoolReadFailures++;
      o.onSpoolReadError(err);
      logLimited('spool_read', { err }, 'a spool segment could not be read; retrying');
      await sleeper.sleep(backoffMs(Math.min(spoolReadFailures, 8), backoff, random));
      return null;
    }
    spoolReadFailures = 0;
    if (!batch) {
      await sleeper.sleep(NOTHING_TO_TAKE_MS);
      return null;
    }
    const body = encodeBatch(batch.items, o.forward);
    body.catch(() => undefined); // a zlib failure surfaces when the body is posted (a retry), or not at all if it never is
    return { batch, body };
  }

  /**
   * The next batch once it is ready, if that happens before `sending` ends and no more than one
   * take-now batch (a memory buffer, a segment) is waiting; else null. A backlog (an outage's
   * spool, a drain at start-up) still leaves one whole batch at a time, so the forwarder holds one
   * batch's memory there, not two (the 1 GiB drain's peak RSS, docs/benchmarks.md).
   */
  async function takeAhead(sending: Promise<unknown>): Promise<Taken | null> {
    let ended = false;
    const end = sending.then(() => void (ended = true));
    if (!(await whenBatchReady(o.queue, policy, sleeper, () => running && !ended, end)) || ended) return null;
    const nowAt = o.queue.takeNowAt();
    const w = waitingItems(o.queue);
    if (w.items > nowAt.items || w.bytes > nowAt.bytes) return null;
    return takeBatch();
  }

  async function releaseAhead(ahead: Promise<Taken | null>): Promise<void> {
    const taken = await ahead;
    if (taken) o.queue.release(taken.batch);
  }

  /** POSTs one batch through its target's breaker; never throws. The lane settles the outcome. */
  async function send(target: SendTarget, body: Promise<readonly Buffer[]>, signal: AbortSignal): Promise<BreakerRun> {
    try {
      return await target.send(body, signal);
    } catch (err) {
      return { kind: 'ran', outcome: { kind: 'retry', code: 'other', detail: String(err) } };
    }
  }

  /** Settles one batch: exactly one of ack or release, always. */
  async function settle(target: SendTarget, batch: Batch, run: BreakerRun): Promise<void> {
    if (run.kind === 'rejected') {
      o.queue.release(batch); // the circuit opened under us (another lane); no traffic was sent
      return;
    }
    await settleOutcome(target, batch, run.outcome);
    metrics.circuit(target.state(), target.url);
  }

  async function settleOutcome(target: SendTarget, batch: Batch, outcome: SendOutcome): Promise<void> {
    switch (outcome.kind) {
      case 'delivered':
        try {
          await o.queue.ack(batch);
        } catch (err) {
          log.error({ err, items: batch.items.length }, 'delivered batch could not be deleted from the spool; it may be sent again');
        }
        metrics.delivered(batch.items.length, batch.bytes, outcome.wireBytes);
        target.settle(outcome);
        return;
      case 'retry': {
        o.queue.release(batch);
        if (outcome.code === 'aborted') return; // our stop, not the listener's failure
        metrics.failed(outcome.code);
        const delay = target.settle(outcome);
        logLimited(
          `forward:${outcome.code}`,
          { target: target.url, kind: outcome.code, status: outcome.status, detail: outcome.detail, items: batch.items.length, retry_in_ms: delay },
          'batch not delivered; it stays queued and will be retried',
        );
        return;
      }
      case 'quarantine': {
        let path: string;
        try {
          path = await quarantineBatch(o.quarantineDir, now(), outcome.status, batch.items, outcome.body);
        } catch (err) {
          // Acknowledging now would lose the batch; keep it and try again after a backoff.
          o.queue.release(batch);
          target.settle({ kind: 'retry', code: 'other', detail: 'quarantine write failed' });
          logLimited('forward:quarantine_write', { err }, 'refused batch could not be written to quarantine/; kept queued');
          return;
        }
        try {
          await o.queue.ack(batch);
        } catch (err) {
          log.error({ err, path }, 'quarantined batch could not be deleted from the spool; it may be sent again');
        }
        metrics.quarantined(batch.items.length);
        target.settle(outcome);
        log.error({ target: target.url, status: outcome.status, items: batch.items.length, path }, 'listener refused a batch permanently; quarantined');
        return;
      }
    }
  }

  return {
    async start() {
      if (running || stopping) return;
      targets = await Promise.all(
        o.urls.map((url) =>
          createSendTarget({
            url,
            single: o.urls.length === 1,
            forward: o.forward,
            circuitBreaker: o.circuitBreaker,
            stateDir: o.stateDir,
            backoff,
            breakerInitialMs: o.breakerInitialMs ?? 1_000,
            log,
            now,
            random,
            onBack: wake,
          }),
        ),
      );
      for (const t of targets) metrics.circuit(t.state(), t.url);
      running = true;
      lanes = Array.from({ length: o.forward.concurrency }, () =>
        lane().catch((err: unknown) => {
          // A bug: without a lane nothing is forwarded, so make it loud. The worker's stop still flushes.
          log.error({ err }, 'forward lane crashed');
        }),
      );
    },

    stop(drainMs) {
      stopping ??= (async () => {
        running = false;
        sleeper.wakeAll();
        wake();
        const pending = [...inFlight];
        if (pending.length > 0) {
          let timer: NodeJS.Timeout | undefined;
          const deadline = new Promise<void>((resolve) => {
            timer = setTimeout(resolve, drainMs);
          });
          await Promise.race([Promise.all(pending.map((p) => p.done)), deadline]);
          clearTimeout(timer);
          for (const p of pending) p.abort.abort(); // no answer in time: the request is cut and the batch released
        }
        await Promise.all(lanes); // every batch is acked or released before this resolves
        await Promise.all(targets.map((t) => t.stop()));
        log.info({ released_in_flight: pending.length }, 'forwarder stopped');
      })();
      return stopping;
    },

    health: () =>
      forwardHealth({
        queue: o.queue,
        urls: o.urls,
        forward: o.forward,
        circuitBreaker: o.circuitBreaker,
        targets: targets.map((t) => t.health()),
        totals: metrics.totals,
        running,
        inFlightBatches: inFlight.size,
        spoolReadFailures,
      }),
  };
}
