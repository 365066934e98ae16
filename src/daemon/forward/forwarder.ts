import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DaemonConfig } from '../../shared/config/daemon-config.js';
import { rateLimitedLog } from '../../shared/telemetry/rate-limited-log.js';
import type { Batch, Queue } from '../buffer/queue.js';
import type { ForwardHealth } from '../health/health-report.js';
import { BACKOFF_DEFAULTS, backoffMs, type BackoffOptions } from './backoff.js';
import { batchReadiness, FILL_CHECK_MS } from './batcher.js';
import { createBreaker, readBreakerState, type Breaker } from './breaker.js';
import { createForwardMetrics } from './forward-metrics.js';
import { createHttpSender, type HttpSender } from './http-sender.js';
import { quarantineBatch } from './quarantine-batch.js';
import type { SendOutcome } from './send-outcome.js';
import { createSleeper } from './sleeper.js';

export interface ForwarderOptions {
  queue: Queue;
  forward: DaemonConfig['forward'] & { url: string };
  circuitBreaker: DaemonConfig['circuitBreaker'];
  /** Holds circuit-breaker.json. */
  stateDir: string;
  /** Permanently refused batches go here. */
  quarantineDir: string;
  /** The daemon's prom-client registry (DaemonMetrics.registry). */
  registry: Registry;
  log: Logger;
  now?: () => number;
  random?: () => number;
  /** Retry backoff between failed sends. Default base 500 ms, cap 60 s. */
  backoff?: BackoffOptions;
  /** First open period of the circuit; doubles up to circuitBreaker.retryTimeoutMs. Default 1000 ms. */
  breakerInitialMs?: number;
}

export interface Forwarder {
  /** Restores the circuit state and starts sending. Resolves once running. */
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

/**
 * The daemon's sink (DESIGN section 4): oldest batch first from the queue, gzip NDJSON to the
 * listener, acknowledged only on 2xx, retried with full-jitter backoff, quarantined on a
 * permanent 4xx, all behind a persisted circuit breaker.
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
  let sender: HttpSender | null = null;
  let breaker: Breaker | null = null;
  let lanes: Promise<void>[] = [];
  let running = false;
  let stopping: Promise<void> | null = null;
  let attempt = 0; // consecutive failed sends, for the backoff
  let retryAt = 0; // no send before this (backoff or Retry-After)
  let retryAfterAt = 0; // the listener's own Retry-After, honoured even when the breaker would allow a probe
  let waitingSince: number | null = null; // when a lane first saw the current partial batch waiting
  let lastSuccessAt: number | null = null;
  let lastError: { kind: string; status?: number; detail: string; at: number } | null = null;

  /** ms until this lane may send, or 0. */
  function waitBeforeSend(b: Breaker): number {
    const gate = b.gate();
    switch (gate.kind) {
      case 'closed':
        return Math.max(0, retryAt - now());
      case 'probe_due':
        return Math.max(0, retryAfterAt - now());
      case 'open':
        return Math.max(gate.retryInMs, retryAfterAt - now());
      case 'probing':
        return FILL_CHECK_MS; // one probe at a time; look again shortly
    }
  }

  async function lane(b: Breaker, s: HttpSender): Promise<void> {
    while (running) {
      try {
        await step(b, s);
      } catch (err) {
        // e.g. a spool segment that cannot be read: count, log, and try again later rather than
        // leave the daemon without a forwarder.
        metrics.failed('other');
        logLimited('forward:internal', { err }, 'forward step failed; retrying');
        await sleeper.sleep(backoffMs(attempt++, backoff, random));
      }
    }
  }

  /** Waits for the breaker, the backoff and a full enough batch, then sends one batch. */
  async function step(b: Breaker, s: HttpSender): Promise<void> {
    const wait = waitBeforeSend(b);
    if (wait > 0) return sleeper.sleep(wait);
    await sleeper.until(o.queue.whenReadable());
    if (!running) return;
    const t = now();
    const ready = batchReadiness(o.queue.stats(), o.forward, t - (waitingSince ??= t));
    if (ready.kind === 'empty') waitingSince = null;
    if (ready.kind !== 'ready') return sleeper.sleep(ready.kind === 'wait' ? ready.ms : FILL_CHECK_MS);
    if (waitBeforeSend(b) > 0) return; // another lane failed meanwhile
    const batch = await o.queue.take(o.forward.batchItems, o.forward.batchBytes);
    waitingSince = null; // what is left starts a new partial batch
    if (!batch) return sleeper.sleep(FILL_CHECK_MS); // all waiting data is in flight on other lanes
    if (!running) {
      o.queue.release(batch); // stop() began while take() was reading the spool: send nothing new
      return;
    }
    const abort = new AbortController();
    const entry: InFlight = { abort, done: sendOne(b, s, batch, abort.signal) };
    inFlight.add(entry);
    try {
      await entry.done;
    } finally {
      inFlight.delete(entry);
    }
  }

  /** Sends one batch and settles it: exactly one of ack or release, always. */
  async function sendOne(b: Breaker, s: HttpSender, batch: Batch, signal: AbortSignal): Promise<void> {
    let run;
    try {
      run = await b.run(() => s.send(batch.items, signal));
    } catch (err) {
      run = { kind: 'ran' as const, outcome: { kind: 'retry' as const, code: 'other' as const, detail: String(err) } };
    }
    if (run.kind === 'rejected') {
      o.queue.release(batch); // the circuit opened under us (another lane); no traffic was sent
      return;
    }
    await settle(batch, run.outcome);
    metrics.circuit(b.state());
  }

  async function settle(batch: Batch, outcome: SendOutcome): Promise<void> {
    switch (outcome.kind) {
      case 'delivered':
        try {
          await o.queue.ack(batch);
        } catch (err) {
          log.error({ err, items: batch.items.length }, 'delivered batch could not be deleted from the spool; it may be sent again');
        }
        metrics.delivered(batch.items.length, batch.bytes, outcome.wireBytes);
        attempt = 0;
        retryAt = 0;
        retryAfterAt = 0;
        lastSuccessAt = now();
        return;
      case 'retry': {
        o.queue.release(batch);
        if (outcome.code === 'aborted') return; // our stop, not the listener's failure
        metrics.failed(outcome.code);
        const delay = outcome.afterMs ?? backoffMs(attempt, backoff, random);
        attempt++;
        retryAt = now() + delay;
        retryAfterAt = outcome.afterMs === undefined ? 0 : retryAt;
        lastError = { kind: outcome.code, ...(outcome.status === undefined ? {} : { status: outcome.status }), detail: outcome.detail, at: now() };
        logLimited(
          `forward:${outcome.code}`,
          { kind: outcome.code, status: outcome.status, detail: outcome.detail, items: batch.items.length, retry_in_ms: delay },
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
          retryAt = now() + backoffMs(attempt++, backoff, random);
          logLimited('forward:quarantine_write', { err }, 'refused batch could not be written to quarantine/; kept queued');
          return;
        }
        try {
          await o.queue.ack(batch);
        } catch (err) {
          log.error({ err, path }, 'quarantined batch could not be deleted from the spool; it may be sent again');
        }
        metrics.quarantined(batch.items.length);
        attempt = 0;
        retryAt = 0;
        lastError = { kind: outcome.code, status: outcome.status, detail: outcome.body.slice(0, 200), at: now() };
        log.error({ status: outcome.status, items: batch.items.length, path }, 'listener refused a batch permanently; quarantined');
        return;
      }
    }
  }

  return {
    async start() {
      if (running || stopping) return;
      const restored = await readBreakerState(join(o.stateDir, 'circuit-breaker.json'), log);
      const b = createBreaker(
        {
          name: 'forward',
          failureThreshold: o.circuitBreaker.failureThreshold,
          retryTimeoutMs: o.circuitBreaker.retryTimeoutMs,
          initialMs: o.breakerInitialMs ?? 1_000,
          path: join(o.stateDir, 'circuit-breaker.json'),
          log,
        },
        restored,
      );
      const s = createHttpSender({
        url: o.forward.url,
        token: o.forward.token,
        connectTimeoutMs: o.forward.connectTimeoutMs,
        timeoutMs: o.forward.timeoutMs,
        maxSockets: o.forward.concurrency,
        now,
      });
      breaker = b;
      sender = s;
      metrics.circuit(b.state());
      if (restored && b.state() !== 'closed') log.warn({ circuit: b.health() }, 'circuit restored open from the previous run');
      running = true;
      lanes = Array.from({ length: o.forward.concurrency }, () =>
        lane(b, s).catch((err: unknown) => {
          // A bug: without a lane nothing is forwarded, so make it loud. main.ts's stop still flushes.
          log.error({ err }, 'forward lane crashed');
        }),
      );
    },

    stop(drainMs) {
      stopping ??= (async () => {
        running = false;
        sleeper.wakeAll();
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
        sender?.close();
        await breaker?.flush();
        log.info({ released_in_flight: pending.length }, 'forwarder stopped');
      })();
      return stopping;
    },

    health() {
      const q = o.queue.stats();
      const t = metrics.totals;
      const cb = breaker?.health() ?? {
        name: 'forward',
        state: 'closed' as const,
        failure_count: 0,
        failure_threshold: o.circuitBreaker.failureThreshold,
        retry_timeout: Math.round(o.circuitBreaker.retryTimeoutMs / 1000),
        opened_at: null,
      };
      return {
        circuitBreaker: cb,
        stats: {
          url: o.forward.url,
          batches_sent: t.batchesSent,
          items_sent: t.itemsSent,
          bytes_sent: t.bytesSent,
          wire_bytes_sent: t.wireBytesSent,
          failures: Object.values(t.failuresByKind).reduce((n, v) => n + (v ?? 0), 0),
          failures_by_kind: { ...t.failuresByKind },
          consecutive_failures: attempt,
          next_attempt_in_ms: breaker && running ? waitBeforeSend(breaker) : 0,
          last_success_at: lastSuccessAt === null ? null : Math.floor(lastSuccessAt / 1000),
          last_error: lastError === null ? null : { ...lastError, at: Math.floor(lastError.at / 1000) },
          in_flight_batches: inFlight.size,
          backlog_items: q.memoryItems + q.spoolItems,
          backlog_bytes: q.memoryBytes + q.spoolBytes,
          oldest_item_age_seconds: Math.floor(q.oldestItemAgeMs / 1000),
          quarantined_batches: t.quarantinedBatches,
          quarantined_items: t.quarantinedItems,
        },
      };
    },
  };
}
