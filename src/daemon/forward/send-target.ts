import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DaemonConfig } from '../../shared/config/daemon-config.js';
import { backoffMs, type BackoffOptions } from './backoff.js';
import { createBreaker, readBreakerState, type Breaker, type BreakerRun } from './breaker.js';
import { createHttpSender } from './http-sender.js';
import { probeReady } from './ready-probe.js';
import type { SendOutcome } from './send-outcome.js';

/**
 * A send that would wait longer than this polls the listener's /ready instead, this often (issue
 * 10: the first batch leaves within a second of the listener's return, so half a second plus one
 * request, not a whole second plus one).
 */
export const LIVENESS_POLL_MS = 500;

export interface SendTargetOptions {
  url: string;
  /** Position in forward.urls; the state file name of a single-URL daemon stays `circuit-breaker.json`. */
  single: boolean;
  forward: DaemonConfig['forward'];
  circuitBreaker: DaemonConfig['circuitBreaker'];
  stateDir: string;
  backoff: BackoffOptions;
  breakerInitialMs: number;
  log: Logger;
  now: () => number;
  random: () => number;
  /** Called when the target may send again earlier than it said (its /ready answered). */
  onBack: () => void;
}

export interface TargetHealth {
  url: string;
  circuitBreaker: ReturnType<Breaker['health']>;
  consecutiveFailures: number;
  nextAttemptInMs: number;
  lastSuccessAt: number | null;
  lastError: { kind: string; status?: number; detail: string; at: number } | null;
}

/** One listener URL: its own sender, circuit breaker, backoff and liveness poll (DESIGN sections 4 and 11). */
export interface SendTarget {
  readonly url: string;
  /** ms until this target may send, 0 when it may now. */
  waitMs(): number;
  /** True while a half-open probe is out: nobody else may use this target. */
  probing(): boolean;
  /** Its last send was delivered (or none failed yet) and its circuit is closed. */
  healthy(): boolean;
  /** POSTs a batch's body (encodeBatch; it may still be encoding) through this target's breaker. */
  send(body: Promise<readonly Buffer[]>, signal: AbortSignal): Promise<BreakerRun>;
  /** Updates backoff and bookkeeping from a send's outcome. Returns the retry delay for logs. */
  settle(outcome: SendOutcome): number;
  health(): TargetHealth;
  state(): 'closed' | 'open' | 'half_open';
  stop(): Promise<void>;
}

export async function createSendTarget(o: SendTargetOptions): Promise<SendTarget> {
  const stateFile = join(o.stateDir, o.single ? 'circuit-breaker.json' : `circuit-breaker-${createHash('sha1').update(o.url).digest('hex').slice(0, 8)}.json`);
  const restored = await readBreakerState(stateFile, o.log);
  const breaker = createBreaker(
    {
      name: o.single ? 'forward' : `forward ${o.url}`,
      failureThreshold: o.circuitBreaker.failureThreshold,
      retryTimeoutMs: o.circuitBreaker.retryTimeoutMs,
      initialMs: o.breakerInitialMs,
      path: stateFile,
      log: o.log,
    },
    restored,
  );
  if (restored && breaker.state() !== 'closed') o.log.warn({ target: o.url, circuit: breaker.health() }, 'circuit restored open from the previous run');
  const sender = createHttpSender({
    url: o.url,
    token: o.forward.token,
    connectTimeoutMs: o.forward.connectTimeoutMs,
    timeoutMs: o.forward.timeoutMs,
    maxSockets: o.forward.concurrency,
    compression: o.forward.compression,
    compressionLevel: o.forward.compressionLevel,
    now: o.now,
  });
  let attempt = 0; // consecutive failed sends, for the backoff
  let retryAt = 0; // no send before this (backoff or Retry-After)
  let retryAfterAt = 0; // the listener's own Retry-After: honoured even when /ready says yes
  let lastSuccessAt: number | null = null;
  let lastError: TargetHealth['lastError'] = null;
  let stopped = false;
  let polling = false;

  function waitMs(): number {
    const now = o.now();
    const gate = breaker.gate();
    switch (gate.kind) {
      case 'closed':
        return Math.max(0, retryAt - now);
      case 'probe_due':
        return Math.max(0, retryAfterAt - now);
      case 'open':
        return Math.max(gate.retryInMs, retryAfterAt - now);
      case 'probing':
        return LIVENESS_POLL_MS; // one probe at a time
    }
  }

  /**
   * While a send is more than LIVENESS_POLL_MS away (long backoff, open circuit) and the listener
   * did not ask us to wait (Retry-After), ask its /ready every LIVENESS_POLL_MS: the first batch
   * then leaves within about half a second of the listener coming back, not after a 60 s open
   * period (issue 10).
   */
  function pollWhileWaiting(): void {
    if (polling || stopped) return;
    polling = true;
    void (async () => {
      try {
        while (!stopped && waitMs() > LIVENESS_POLL_MS && retryAfterAt <= o.now()) {
          await new Promise((r) => setTimeout(r, LIVENESS_POLL_MS).unref());
          if (stopped || retryAfterAt > o.now()) break;
          if (await probeReady(o.url, Math.min(LIVENESS_POLL_MS, o.forward.connectTimeoutMs))) {
            retryAt = 0;
            breaker.probeNow();
            o.log.info({ target: o.url }, 'listener answers /ready again: sending the next batch now');
            o.onBack();
            break;
          }
        }
      } finally {
        polling = false;
      }
    })();
  }

  return {
    url: o.url,
    waitMs,
    probing: () => breaker.gate().kind === 'probing',
    healthy: () => attempt === 0 && breaker.gate().kind === 'closed',
    send: (body, signal) => breaker.run(() => sender.post(body, signal)),
    settle(outcome) {
      const now = o.now();
      switch (outcome.kind) {
        case 'delivered':
        case 'quarantine': // the listener answered: it is reachable
          attempt = 0;
          retryAt = 0;
          retryAfterAt = 0;
          if (outcome.kind === 'delivered') lastSuccessAt = now;
          else lastError = { kind: outcome.code, status: outcome.status, detail: outcome.body.slice(0, 200), at: now };
          return 0;
        case 'retry': {
          if (outcome.code === 'aborted') return 0; // our stop, not the listener's failure
          const delay = outcome.afterMs ?? backoffMs(attempt, o.backoff, o.random);
          attempt++;
          retryAt = now + delay;
          retryAfterAt = outcome.afterMs === undefined ? 0 : retryAt;
          lastError = { kind: outcome.code, ...(outcome.status === undefined ? {} : { status: outcome.status }), detail: outcome.detail, at: now };
          pollWhileWaiting();
          return delay;
        }
      }
    },
    health: () => ({
      url: o.url,
      circuitBreaker: breaker.health(),
      consecutiveFailures: attempt,
      nextAttemptInMs: stopped ? 0 : waitMs(),
      lastSuccessAt,
      lastError,
    }),
    state: () => breaker.state(),
    async stop() {
      stopped = true;
      sender.close();
      await breaker.flush();
    },
  };
}
