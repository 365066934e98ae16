import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhenResult, type IBackoff, type IBackoffFactory } from 'cockatiel';
import type { SendOutcome } from './sink.js';

/**
 * An exporter's circuit breaker: cockatiel's CircuitBreakerPolicy with a ConsecutiveBreaker (the
 * same library and rules as the daemon's forwarder), plus a gate so the exporter reads nothing from
 * the store while the circuit is open. Not persisted: after a restart the cursor says where to go
 * on, and the first batch is the probe.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export type BreakerGate = { kind: 'closed' } | { kind: 'probe_due' } | { kind: 'open'; retryInMs: number };

export interface ExportBreakerOptions {
  /** Consecutive failed batches that open the circuit. */
  failureThreshold: number;
  /** Longest open period; the first is min(1 s, this) and each failed probe doubles it. */
  retryTimeoutMs: number;
  onChange?: (state: BreakerState) => void;
}

export interface ExportBreaker {
  gate(): BreakerGate;
  state(): BreakerState;
  failures(): number;
  /** Runs one send; a `retry` outcome counts as a failure, `rejected` (the data, not the receiver) does not. */
  run(send: () => Promise<SendOutcome>): Promise<SendOutcome | { kind: 'circuit_open' }>;
}

export function openDelayMs(n: number, retryTimeoutMs: number): number {
  const first = Math.min(1_000, retryTimeoutMs);
  return Math.min(retryTimeoutMs, first * 2 ** Math.min(Math.max(n, 1) - 1, 30));
}

export function createExportBreaker(o: ExportBreakerOptions): ExportBreaker {
  const at = (n: number): IBackoff<unknown> => ({ duration: openDelayMs(n, o.retryTimeoutMs), next: () => at(n + 1) });
  const halfOpenAfter: IBackoffFactory<unknown> = { next: () => at(1) };
  const counter = new ConsecutiveBreaker(o.failureThreshold);
  const policy = circuitBreaker(
    handleWhenResult((r) => typeof r === 'object' && r !== null && 'kind' in r && r.kind === 'retry'),
    { breaker: counter, halfOpenAfter },
  );
  let openedAt = 0;
  let opens = 0;
  policy.onBreak(() => {
    openedAt = Date.now();
    opens++;
    o.onChange?.('open');
  });
  policy.onHalfOpen(() => o.onChange?.('half_open'));
  policy.onReset(() => {
    opens = 0;
    o.onChange?.('closed');
  });

  function state(): BreakerState {
    if (policy.state === CircuitState.Closed) return 'closed';
    return policy.state === CircuitState.HalfOpen ? 'half_open' : 'open';
  }

  return {
    gate() {
      if (policy.state !== CircuitState.Open) return { kind: 'closed' };
      const retryInMs = openedAt + openDelayMs(opens, o.retryTimeoutMs) - Date.now();
      return retryInMs > 0 ? { kind: 'open', retryInMs } : { kind: 'probe_due' };
    },
    state,
    failures: () => counter.state,
    async run(send) {
      try {
        return await policy.execute(() => send());
      } catch (err) {
        if (err instanceof BrokenCircuitError) return { kind: 'circuit_open' };
        throw err;
      }
    },
  };
}
