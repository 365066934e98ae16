import { collectDefaultMetrics, type Registry } from 'prom-client';

/**
 * How often the event-loop lag is sampled. prom-client's default of 10 ms arms a timer that wakes
 * an idle process ~200 times a second and costs it ~7 ms of CPU every second (measured: `npm run
 * bench -- --only idle`), on every web server the daemon runs on. Every 100 ms still catches
 * each stall of 100 ms or more, which is what the lag metrics are for.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/** Node's own process metrics (CPU, memory, handles, GC, event-loop lag) under `prefix`. */
export function collectProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
}
