import { Counter, Gauge, type Registry } from 'prom-client';
import { FAILURE_KINDS, type ForwardErrorCode } from './send-outcome.js';

const P = 'bitville_daemon_forward_';

/**
 * Prometheus counters of the forwarder, in the daemon's registry. /health reads its own plain
 * totals (kept here as well), so the two always agree. A forwarder recreated in the same process
 * (config reload) reuses the registered metrics instead of failing on duplicate names.
 */
export function createForwardMetrics(registry: Registry) {
  const counter = (name: string, help: string, labelNames: string[] = []): Counter =>
    (registry.getSingleMetric(P + name) as Counter | undefined) ?? new Counter({ name: P + name, help, labelNames, registers: [registry] });
  const gauge = (name: string, help: string, labelNames: string[] = []): Gauge =>
    (registry.getSingleMetric(P + name) as Gauge | undefined) ?? new Gauge({ name: P + name, help, labelNames, registers: [registry] });

  const batches = counter('batches_sent_total', 'Batches acknowledged by the listener (2xx)');
  const items = counter('items_sent_total', 'Items delivered (acknowledged) to the listener');
  const bytes = counter('bytes_sent_total', 'Uncompressed item bytes delivered (no newlines)');
  const wireBytes = counter('wire_bytes_sent_total', 'Compressed request body bytes of delivered batches');
  const failures = counter('failures_total', 'Batch sends that failed and will be retried, by kind', ['kind']);
  const quarantinedBatches = counter('quarantined_batches_total', 'Batches refused permanently (4xx) and moved to quarantine/');
  const quarantinedItems = counter('quarantined_items_total', 'Items in quarantined batches');
  const circuitState = gauge('circuit_state', 'Circuit breaker per listener URL: 0 closed, 1 open, 2 half-open', ['target']);
  const circuitOpened = counter('circuit_opened_total', 'Times the circuit breaker opened');

  const totals = {
    batchesSent: 0,
    itemsSent: 0,
    bytesSent: 0,
    wireBytesSent: 0,
    quarantinedBatches: 0,
    quarantinedItems: 0,
    failuresByKind: {} as Partial<Record<ForwardErrorCode, number>>,
  };
  for (const kind of FAILURE_KINDS) {
    totals.failuresByKind[kind] = 0; // monitors see every kind, 0 included
    failures.inc({ kind }, 0);
  }

  return {
    totals,
    delivered(itemCount: number, itemBytes: number, wire: number) {
      totals.batchesSent++;
      totals.itemsSent += itemCount;
      totals.bytesSent += itemBytes;
      totals.wireBytesSent += wire;
      batches.inc();
      items.inc(itemCount);
      bytes.inc(itemBytes);
      wireBytes.inc(wire);
    },
    failed(kind: ForwardErrorCode) {
      totals.failuresByKind[kind] = (totals.failuresByKind[kind] ?? 0) + 1;
      failures.inc({ kind });
    },
    quarantined(itemCount: number) {
      totals.quarantinedBatches++;
      totals.quarantinedItems += itemCount;
      quarantinedBatches.inc();
      quarantinedItems.inc(itemCount);
    },
    circuit(state: 'closed' | 'open' | 'half_open', target: string) {
      circuitState.set({ target }, state === 'closed' ? 0 : state === 'open' ? 1 : 2);
    },
    circuitOpened: () => circuitOpened.inc(),
  };
}

export type ForwardMetrics = ReturnType<typeof createForwardMetrics>;
