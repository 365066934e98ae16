import type { Logger } from 'pino';
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhenResult,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IBackoffFactory,
} from 'cockatiel';
import type { ForwardHealth } from './forward-health.js';
import { halfOpenDelayMs } from './backoff.js';
import { readJson, writeJsonAtomic } from '../../shared/fs/json-file.js';
import type { SendOutcome } from './send-outcome.js';

/**
 * The forwarder's circuit breaker (DESIGN section 4): cockatiel's CircuitBreakerPolicy with a
 * ConsecutiveBreaker does the state machine; this thin wrapper adds what cockatiel leaves to its
 * caller:
 * - persistence: cockatiel's own `toJSON()` / `initialState`, written atomically to
 *   `<state>/circuit-breaker.json` whenever it changes and restored at start;
 * - a gate, so the forwarder takes no batch at all while the circuit is open (cockatiel would
 *   only reject the call after we had taken it);
 * - the /health shape.
 * cockatiel reads `Date.now()` itself, so this file does too (tests fake `Date` with
 * node:test mock timers); the delay maths is the pure `halfOpenDelayMs`.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export type BreakerGate =
  | { kind: 'closed' }
  | { kind: 'probe_due' } // open, and its wait is over: the next send is the one probe
  | { kind: 'open'; retryInMs: number }
  | { kind: 'probing' }; // half-open: a probe is in flight, everyone else waits

export type BreakerRun = { kind: 'ran'; outcome: SendOutcome } | { kind: 'rejected' };

export interface BreakerOptions {
  name: string;
  /** Consecutive failures that open the circuit. Default 5. */
  failureThreshold: number;
  /** Longest open period before a probe. Default 60 s. */
  retryTimeoutMs: number;
  /** First open period; doubles after each failed probe. Default 1000 ms. */
  initialMs: number;
  /** `<stateDir>/circuit-breaker.json`. */
  path: string;
  log: Logger;
}

export interface Breaker {
  gate(): BreakerGate;
  state(): BreakerState;
  /** Runs one send through the breaker; a `retry` outcome other than `aborted` counts as a failure. */
  run(send: () => Promise<SendOutcome>): Promise<BreakerRun>;
  /** An open circuit may send its half-open probe now (the listener's /ready answered). */
  probeNow(): void;
  health(): ForwardHealth['circuitBreaker'];
  /** Resolves once the last state change is on disk. */
  flush(): Promise<void>;
}

/** The file's shape; `cockatiel` is what `CircuitBreakerPolicy.toJSON()` returned. */
interface StateFile {
  version: 1;
  name: string;
  state: BreakerState;
  failure_count: number;
  opened_at_ms: number | null;
  saved_at_ms: number;
  cockatiel: CockatielState;
}

interface CockatielState {
  ownState: { value: CircuitState; openedAt?: number; attemptNo?: number };
  breakerState: number;
}

/** Reads the persisted state; a missing file is a closed circuit, a corrupt one is logged and ignored. */
export async function readBreakerState(path: string, log: Logger): Promise<StateFile | null> {
  const found = await readJson(path);
  if (found.kind === 'missing') return null;
  if (found.kind === 'found' && isStateFile(found.value)) return found.value;
  log.warn({ path, error: found.kind === 'corrupt' ? found.error : 'unexpected shape' }, 'circuit breaker state unreadable; starting closed');
  return null;
}

export function createBreaker(o: BreakerOptions, restored: StateFile | null): Breaker {
  let openedAt: number | null = restored?.opened_at_ms ?? null;
  let policy = makePolicy(restored?.cockatiel);
  let saved = JSON.stringify(policy.toJSON());
  let writing: Promise<void> = Promise.resolve();
  let dirty = false;

  function makePolicy(initialState: CockatielState | undefined): CircuitBreakerPolicy {
    const p = circuitBreaker(handleWhenResult((r) => isRetryable(r)), {
      breaker: new ConsecutiveBreaker(o.failureThreshold),
      halfOpenAfter: doublingBackoff(o.initialMs, o.retryTimeoutMs),
      initialState,
    });
    p.onBreak(() => {
      openedAt = Date.now();
      const s = cockatielState();
      o.log.warn(
        { circuit: o.name, failure_count: s.breakerState, retry_in_ms: halfOpenDelayMs(s.ownState.attemptNo ?? 1, o.initialMs, o.retryTimeoutMs) },
        'circuit opened: forwarding paused',
      );
    });
    p.onHalfOpen(() => o.log.info({ circuit: o.name }, 'circuit half-open: sending one probe'));
    p.onReset(() => {
      openedAt = null;
      o.log.info({ circuit: o.name }, 'circuit closed: forwarding resumed');
    });
    return p;
  }

  function cockatielState(): CockatielState {
    const s = policy.toJSON();
    if (!isCockatielState(s)) throw new Error('cockatiel changed its toJSON() shape'); // a dependency bug, not a runtime condition
    return s;
  }

  function state(): BreakerState {
    switch (policy.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half_open';
      default:
        return 'open'; // Isolated is never used here
    }
  }

  /** Persists when the serialized state changed; writes are serial and coalesced. */
  function persist(): void {
    const text = JSON.stringify(policy.toJSON());
    if (text === saved) return;
    saved = text;
    if (dirty) return; // the queued write will pick up the newest state
    dirty = true;
    writing = writing.then(async () => {
      dirty = false;
      const file: StateFile = {
        version: 1,
        name: o.name,
        state: state(),
        failure_count: cockatielState().breakerState,
        opened_at_ms: openedAt,
        saved_at_ms: Date.now(),
        cockatiel: cockatielState(),
      };
      try {
        await writeJsonAtomic(o.path, file);
      } catch (err) {
        o.log.error({ err, path: o.path }, 'could not save circuit breaker state'); // the breaker still works in memory
      }
    });
  }

  return {
    gate() {
      const s = cockatielState();
      if (policy.state === CircuitState.Closed) return { kind: 'closed' };
      if (policy.state === CircuitState.HalfOpen) return { kind: 'probing' };
      // Same test as cockatiel's execute(): probe once `now - openedAt >= duration`.
      const dueAt = (s.ownState.openedAt ?? 0) + halfOpenDelayMs(s.ownState.attemptNo ?? 1, o.initialMs, o.retryTimeoutMs);
      const retryInMs = dueAt - Date.now();
      return retryInMs > 0 ? { kind: 'open', retryInMs } : { kind: 'probe_due' };
    },
    state,
    probeNow() {
      if (policy.state !== CircuitState.Open) return;
      // cockatiel has no "probe now": the same state with its open period already over does it,
      // attempt count included, so the next failure still doubles the wait.
      const s = cockatielState();
      policy = makePolicy({ ...s, ownState: { ...s.ownState, openedAt: 0 } });
      persist();
    },
    async run(send) {
      try {
        const outcome = await policy.execute(() => send());
        return { kind: 'ran', outcome };
      } catch (err) {
        if (err instanceof BrokenCircuitError) return { kind: 'rejected' };
        throw err;
      } finally {
        persist();
      }
    },
    health() {
      return {
        name: o.name,
        state: state(),
        failure_count: cockatielState().breakerState,
        failure_threshold: o.failureThreshold,
        retry_timeout: Math.round(o.retryTimeoutMs / 1000), // seconds, like the PHP daemon's report
        opened_at: openedAt === null ? null : Math.floor(openedAt / 1000), // unix seconds, like `timestamp`
      };
    },
    flush() {
      persist();
      return writing;
    },
  };
}

/** A failure for the breaker: the listener did not take the batch. Our own abort is not its fault. */
function isRetryable(r: unknown): boolean {
  return typeof r === 'object' && r !== null && 'kind' in r && r.kind === 'retry' && 'code' in r && r.code !== 'aborted';
}

/** cockatiel's halfOpenAfter: the n-th open period is halfOpenDelayMs(n). Deterministic, so restore is exact. */
function doublingBackoff(initialMs: number, maxMs: number): IBackoffFactory<unknown> {
  const at = (n: number): IBackoff<unknown> => ({ duration: halfOpenDelayMs(n, initialMs, maxMs), next: () => at(n + 1) });
  return { next: () => at(1) };
}

function isCockatielState(v: unknown): v is CockatielState {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  const own = s.ownState as Record<string, unknown> | undefined;
  if (typeof own !== 'object' || own === null) return false;
  if (own.value !== CircuitState.Closed && own.value !== CircuitState.Open) return false; // half-open is saved as open
  if (own.value === CircuitState.Open && (typeof own.openedAt !== 'number' || typeof own.attemptNo !== 'number')) return false;
  return typeof s.breakerState === 'number' && Number.isFinite(s.breakerState);
}

function isStateFile(v: unknown): v is StateFile {
  if (typeof v !== 'object' || v === null) return false;
  const f = v as Record<string, unknown>;
  return f.version === 1 && isCockatielState(f.cockatiel) && (f.opened_at_ms === null || typeof f.opened_at_ms === 'number');
}
