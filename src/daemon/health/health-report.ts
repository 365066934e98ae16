import type { QueueStats } from '../buffer/queue.js';
import type { ForwardHealth } from '../forward/forward-health.js';
import type { MetricsSnapshot } from '../telemetry/daemon-metrics.js';

import type { HealthStatus } from '../../shared/http/health-server.js';

export type { HealthStatus, ForwardHealth };

/** Live checks behind `status`; each is computed at request time, never assumed. */
export interface HealthChecks {
  socketListening: boolean;
  spoolWritable: boolean;
  udpBound: boolean | null;
  /** Free bytes on the spool's filesystem, and the floor `spool.minFreeBytes` keeps. */
  diskFreeBytes: number;
  minFreeBytes: number;
  mode: 'memory' | 'durable';
  whenFull: 'drop_oldest' | 'drop_newest';
}

/** How long a drop keeps /health degraded: long enough for a monitor polling every 30 s to see it. */
export const RECENT_DROP_MS = 60_000;

export interface HealthInputs {
  checks: HealthChecks;
  queue: QueueStats;
  metrics: MetricsSnapshot;
  /** null until a forwarder runs (forwarding off, or before activation). */
  startedAt: number;
  now: number;
  spoolPath: string;
  worker: { requestCount: number; rssBytes: number; memoryLimitMb: number; restarts: number; maxRequests: number; memory?: NodeJS.MemoryUsage };
  forward: ForwardHealth | null;
  /** Unix ms of the latest drop by policy, 0 if none. */
  lastDropAt: number;
}

/**
 * The /health document (DESIGN section 6), in the shape monitors of the PHP daemon already read.
 * failing (503): nothing can be accepted — the socket is not listening, the spool is not
 * writable, or (durable mode) the disk is below `spool.minFreeBytes` with no old data left to
 * make room or a drop_newest policy. degraded (200): something
 * is being lost or is at risk — items dropped in the last minute, the disk below its floor
 * (memory mode), the circuit open (or one of several listener URLs down), a spool segment that
 * cannot be read, the spool over 80 % of its quota. Each has a named problem.
 */
export function healthReport(i: HealthInputs): { status: HealthStatus; body: Record<string, unknown> } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const diskLow = i.checks.diskFreeBytes < i.checks.minFreeBytes;
  if (!i.checks.socketListening) problems.push('socket_not_listening');
  if (!i.checks.spoolWritable) problems.push('spool_not_writable');
  if (i.checks.udpBound === false) problems.push('udp_not_bound');
  // Durable mode accepts nothing it cannot write: below the floor, with nothing old left to delete
  // (or drop_newest), every new item is dropped. Memory mode still takes what fits in memory.
  const nothingAccepted = i.checks.mode === 'durable' && (i.checks.whenFull === 'drop_newest' || i.queue.spoolBytes === 0);
  if (diskLow) (nothingAccepted ? problems : warnings).push('disk_below_min_free');
  if (i.lastDropAt > 0 && i.now - i.lastDropAt < RECENT_DROP_MS) warnings.push('dropping_items');
  if (i.forward?.circuitBreaker.state === 'open') warnings.push('circuit_open');
  else if (i.forward?.circuitBreakers.some((c) => c.state === 'open')) warnings.push('forward_target_down'); // others take over
  if (i.forward?.spoolReadFailing) warnings.push('spool_read_failing');
  if (i.queue.spoolBytes > 0.8 * i.queue.spoolBytesLimit) warnings.push('spool_over_80_percent');
  const status: HealthStatus = problems.length > 0 ? 'failing' : warnings.length > 0 ? 'degraded' : 'ok';
  const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;
  return {
    status,
    body: {
      status,
      timestamp: Math.floor(i.now / 1000),
      uptime_seconds: Math.floor((i.now - i.startedAt) / 1000),
      problems: [...problems, ...warnings],
      checks: {
        socket_listening: i.checks.socketListening,
        spool_writable: i.checks.spoolWritable,
        udp_bound: i.checks.udpBound,
        disk_free_bytes: i.checks.diskFreeBytes,
        disk_min_free_bytes: i.checks.minFreeBytes,
      },
      stats: {
        worker: {
          request_count: i.worker.requestCount,
          memory_usage_mb: mb(i.worker.rssBytes),
          // where the RSS goes: V8 heap (used of total), Buffers outside it (message bytes)
          ...(i.worker.memory
            ? { heap_used_mb: mb(i.worker.memory.heapUsed), heap_total_mb: mb(i.worker.memory.heapTotal), external_mb: mb(i.worker.memory.external), array_buffers_mb: mb(i.worker.memory.arrayBuffers) }
            : {}),
          memory_limit_mb: i.worker.memoryLimitMb,
          restarts: i.worker.restarts,
          max_requests: i.worker.maxRequests,
        },
        buffer: {
          memory_buffer_count: i.queue.memoryItems,
          memory_spilling_count: i.queue.spillingItems,
          memory_buffer_limit: i.queue.memoryItemsLimit,
          memory_buffer_bytes: i.queue.memoryBytes,
          disk_overflow_count: i.queue.overflowSegmentsWritten,
          disk_file_count: i.queue.spoolSegments,
          disk_items: i.queue.spoolItems,
          disk_bytes: i.queue.spoolBytes,
          disk_bytes_limit: i.queue.spoolBytesLimit,
          oldest_item_age_seconds: Math.floor(i.queue.oldestItemAgeMs / 1000),
          in_flight_batches: i.queue.inFlightBatches,
          disk_buffer_path: i.spoolPath,
        },
        ...(i.forward && i.forward.circuitBreakers.length > 1 ? { circuit_breakers: i.forward.circuitBreakers } : {}),
        circuit_breaker: i.forward?.circuitBreaker ?? {
          name: 'forward',
          state: 'disabled', // no forwarder runs in this process
          failure_count: 0,
          failure_threshold: 0,
          retry_timeout: 0,
          opened_at: null,
        },
        ingest: {
          accepted: i.metrics.acceptedTotal,
          accepted_by_source: i.metrics.accepted,
          rejected: i.metrics.rejectedTotal,
          rejected_by_reason: i.metrics.rejected,
          defaults_filled: i.metrics.defaultsFilled,
          connections_total: i.metrics.connections,
          connections_active: i.metrics.activeConnections,
          connections_closed_by_reason: i.metrics.closed,
          inbox_files: i.metrics.inboxFiles,
          recovered_from_spool: i.metrics.recovered,
          quarantined: i.metrics.quarantined,
        },
        forward: i.forward?.stats ?? {},
        dropped: i.metrics.dropped,
      },
    },
  };
}
