import type { DaemonConfig } from '../../shared/config/daemon-config.js';
import type { ForwardHealth } from './forward-health.js';
import type { SendTarget } from './send-target.js';

export type TargetChoice = { kind: 'send'; target: SendTarget } | { kind: 'wait'; ms: number };

/**
 * The next target that may send, looking from `start` round robin; else how long until the first
 * one may. One URL behaves exactly like the single-listener forwarder of DESIGN section 4.
 */
export function chooseTarget(targets: readonly SendTarget[], start: number): TargetChoice {
  let soonest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[(start + i) % targets.length] as SendTarget;
    const wait = t.waitMs();
    if (wait === 0) return { kind: 'send', target: t };
    soonest = Math.min(soonest, wait);
  }
  return { kind: 'wait', ms: Number.isFinite(soonest) ? soonest : 1_000 };
}

type Circuit = ForwardHealth['circuitBreaker'];

/**
 * DESIGN section 6's single `circuit_breaker` for several URLs: closed while any URL can take
 * data, open when none can (then nothing is forwarded), half-open in between. Per-URL states are
 * in `circuit_breakers`.
 */
export function summarizeCircuits(all: readonly Circuit[], cfg: DaemonConfig['circuitBreaker']): Circuit {
  const only = all.length === 1 ? all[0] : undefined;
  if (only) return only;
  const fallback: Circuit = { name: 'forward', state: 'closed', failure_count: 0, failure_threshold: cfg.failureThreshold, retry_timeout: Math.round(cfg.retryTimeoutMs / 1000), opened_at: null };
  if (all.length === 0) return fallback;
  const state = all.some((c) => c.state === 'closed') ? 'closed' : all.every((c) => c.state === 'open') ? 'open' : 'half_open';
  const opened = all.map((c) => c.opened_at).filter((t): t is number => t !== null);
  return {
    ...fallback,
    state,
    failure_count: Math.min(...all.map((c) => c.failure_count)),
    opened_at: state === 'closed' || opened.length === 0 ? null : Math.min(...opened),
  };
}
