import type { HealthStatus } from '../../shared/http/health-server.js';
import type { CollectorLoop } from '../collector-loop.js';
import type { MonitorConnection } from '../db/monitor-connection.js';
import type { SenderStats } from '../send/record-sender.js';
import type { CollectorName } from './agent-metrics.js';

export interface AgentHealthInputs {
  started: number;
  db: ReturnType<MonitorConnection['stats']>;
  budget: { msPerSecond: number; max: number; slowdown: number; waitMs: number };
  collectors: ReadonlyMap<CollectorName, CollectorLoop>;
  sender: SenderStats;
  send: { mode: 'socket' | 'url'; target: string };
  logs: { file: string | null; offset: number; bytesRead: number; rotations: number; truncations: number } | null;
}

/**
 * /health of the pg-agent: `degraded` (200) while the database is unreachable or records cannot
 * be sent (the agent keeps retrying and buffering either way); it is never `failing`, because
 * restarting the agent would not help.
 */
export function agentHealth(i: AgentHealthInputs): { status: HealthStatus; body: Record<string, unknown> } {
  const problems: string[] = [];
  if (i.db.state !== 'up') problems.push(`database ${i.db.state}${i.db.lastError ? `: ${i.db.lastError}` : ''}`);
  if (i.sender.consecutiveFailures > 0) problems.push(`sending to ${i.send.target} failing: ${i.sender.lastError ?? 'unknown'}`);
  const status: HealthStatus = problems.length > 0 ? 'degraded' : 'ok';
  const collectors: Record<string, unknown> = {};
  for (const [name, loop] of i.collectors) collectors[name] = loop.status();
  return {
    status,
    body: {
      status,
      timestamp: new Date().toISOString(),
      uptime_seconds: Math.round((Date.now() - i.started) / 1000),
      problems,
      stats: {
        database: {
          state: i.db.state,
          connected_since: i.db.connectedSince,
          connects: i.db.connects,
          connect_failures: i.db.connectFailures,
          last_error: i.db.lastError,
          server_version_num: i.db.serverVersionNum,
          backend_pid: i.db.backendPid,
        },
        budget: { db_time_ms_per_second: Math.round(i.budget.msPerSecond * 100) / 100, max_db_time_per_second_ms: i.budget.max, slowdown_factor: i.budget.slowdown, credit_wait_ms: i.budget.waitMs },
        collectors,
        send: { mode: i.send.mode, target: i.send.target, buffered: i.sender.buffered, buffered_bytes: i.sender.bufferedBytes, sent: i.sender.sent, dropped: i.sender.dropped, failures: i.sender.failures, last_error: i.sender.lastError },
        logs: i.logs,
      },
    },
  };
}
