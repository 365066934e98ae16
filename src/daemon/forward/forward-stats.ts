import type { DaemonConfig } from '../../shared/config/daemon-config.js';
import type { Queue } from '../buffer/queue.js';
import { waitingItems } from './batcher.js';
import type { ForwardHealth } from './forward-health.js';
import type { ForwardMetrics } from './forward-metrics.js';
import type { TargetHealth } from './send-target.js';
import { summarizeCircuits } from './target-choice.js';

export interface ForwardHealthInput {
  queue: Queue;
  urls: readonly string[];
  forward: DaemonConfig['forward'];
  circuitBreaker: DaemonConfig['circuitBreaker'];
  /** One per forward URL, in config order. */
  targets: readonly TargetHealth[];
  totals: ForwardMetrics['totals'];
  running: boolean;
  /** Sends on the wire (a batch taken ahead is not one). */
  inFlightBatches: number;
  /** Consecutive failed takes from the spool; 0 once one reads. */
  spoolReadFailures: number;
}

/** The forwarder's /health `circuit_breaker` and `forward` sections (DESIGN sections 6 and 11), from what it counts. */
export function forwardHealth(i: ForwardHealthInput): ForwardHealth {
  const w = waitingItems(i.queue);
  const q = i.queue.stats();
  const t = i.totals;
  const each = i.targets;
  return {
    circuitBreaker: summarizeCircuits(each.map((h) => h.circuitBreaker), i.circuitBreaker),
    circuitBreakers: each.map((h) => ({ url: h.url, ...h.circuitBreaker })),
    spoolReadFailing: i.spoolReadFailures > 0,
    stats: {
      url: each[0]?.url ?? i.urls[0] ?? null,
      urls: [...i.urls],
      batches_sent: t.batchesSent,
      items_sent: t.itemsSent,
      bytes_sent: t.bytesSent,
      wire_bytes_sent: t.wireBytesSent,
      compression: i.forward.compression,
      failures: Object.values(t.failuresByKind).reduce((n, v) => n + (v ?? 0), 0),
      failures_by_kind: { ...t.failuresByKind },
      consecutive_failures: Math.min(...each.map((h) => h.consecutiveFailures)),
      next_attempt_in_ms: i.running && each.length > 0 ? Math.min(...each.map((h) => h.nextAttemptInMs)) : 0,
      last_success_at: lastOf(each.map((h) => h.lastSuccessAt)),
      last_error: latestError(each.map((h) => h.lastError)),
      in_flight_batches: i.inFlightBatches,
      backlog_items: Math.max(0, w.items),
      backlog_bytes: Math.max(0, w.bytes),
      oldest_item_age_seconds: Math.floor(q.oldestItemAgeMs / 1000),
      quarantined_batches: t.quarantinedBatches,
      quarantined_items: t.quarantinedItems,
      spool_read_failures: i.spoolReadFailures,
      targets: each.map((h) => ({
        url: h.url,
        state: h.circuitBreaker.state,
        consecutive_failures: h.consecutiveFailures,
        next_attempt_in_ms: h.nextAttemptInMs,
        last_success_at: h.lastSuccessAt === null ? null : Math.floor(h.lastSuccessAt / 1000),
      })),
    },
  };
}

function lastOf(times: Array<number | null>): number | null {
  const known = times.filter((t): t is number => t !== null);
  return known.length === 0 ? null : Math.floor(Math.max(...known) / 1000);
}

function latestError(errors: Array<TargetHealth['lastError']>): Record<string, unknown> | null {
  let latest: TargetHealth['lastError'] = null;
  for (const e of errors) if (e && (!latest || e.at > latest.at)) latest = e;
  return latest === null ? null : { ...latest, at: Math.floor(latest.at / 1000) };
}
