import type { HealthStatus } from '../../shared/http/health-server.js';

/** What the supervisor itself knows, added to every /health answer. */
export interface SupervisorFacts {
  /** Before the first worker owns the spool: clients use their inbox until the socket appears. */
  starting: boolean;
  pid: number;
  startedAt: number;
  now: number;
  /** Workers started after the first one: planned replacements plus crash restarts. */
  restarts: number;
  restartsByReason: Record<string, number>;
  crashes: number;
  workerPid: number | null;
  workerGeneration: number | null;
  workersAlive: number;
  reloads: number;
  reloadFailures: number;
  maxMemoryMb: number;
  maxRequests: number;
  udpRelayed: number;
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/**
 * The /health answer: the current worker's report (DESIGN section 6) with the supervisor's
 * counters laid over `stats.worker`. With no worker to ask, status is failing (503): nobody
 * accepts from the socket's queue and nothing is forwarded. During start-up it is `starting`
 * (HTTP 200, docs/daemon.md): nothing is lost meanwhile — the socket file appears only once a
 * worker accepts, and clients use their inbox until then — so a restart should not page anyone;
 * a start that fails exits the daemon, which monitors see anyway.
 */
export function supervisorHealth(worker: { status: HealthStatus; body: Record<string, unknown> } | null, f: SupervisorFacts): { status: HealthStatus; body: Record<string, unknown> } {
  const uptime = Math.floor((f.now - f.startedAt) / 1000);
  const supervisor = {
    pid: f.pid,
    workers_alive: f.workersAlive,
    restarts_by_reason: f.restartsByReason,
    crashes: f.crashes,
    config_reloads: f.reloads,
    config_reload_failures: f.reloadFailures,
    udp_datagrams_relayed: f.udpRelayed,
  };
  if (worker && f.starting && worker.status === 'failing') {
    // The first worker accepts but has not taken over the spool yet (its probe is not run before that).
    return { status: 'starting', body: { ...worker.body, status: 'starting', problems: ['starting'], supervisor } };
  }
  if (!worker && f.starting) {
    return {
      status: 'starting',
      body: {
        status: 'starting',
        timestamp: Math.floor(f.now / 1000),
        uptime_seconds: uptime,
        problems: ['starting'],
        checks: { worker_running: false },
        stats: {
          worker: { pid: null, generation: null, request_count: 0, memory_usage_mb: 0, memory_limit_mb: f.maxMemoryMb, restarts: f.restarts, max_requests: f.maxRequests },
        },
        supervisor,
      },
    };
  }
  if (!worker) {
    return {
      status: 'failing',
      body: {
        status: 'failing',
        timestamp: Math.floor(f.now / 1000),
        uptime_seconds: uptime,
        problems: ['no_worker_running'],
        checks: { worker_running: false },
        stats: {
          worker: { pid: null, generation: null, request_count: 0, memory_usage_mb: 0, memory_limit_mb: f.maxMemoryMb, restarts: f.restarts, max_requests: f.maxRequests },
        },
        supervisor,
      },
    };
  }
  const body = { ...worker.body };
  const stats = { ...record(body.stats) };
  stats.worker = { ...record(stats.worker), pid: f.workerPid, generation: f.workerGeneration, restarts: f.restarts };
  body.stats = stats;
  body.uptime_seconds = uptime; // the daemon's uptime, not this worker's
  body.checks = { ...record(body.checks), worker_running: true };
  body.supervisor = supervisor;
  return { status: worker.status, body };
}
