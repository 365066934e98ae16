/**
 * The supervisor's own three metrics in Prometheus text format. Written by hand on purpose: the
 * supervisor lives as long as the daemon and loads no metrics library (prom-client is ~12 MB of
 * RSS; the worker's registry renders everything else, and /metrics is the two texts together).
 */
export interface SupervisorCounts {
  restartsByReason: Record<string, number>;
  workerUp: boolean;
  reloadsByOutcome: Record<'applied' | 'rejected', number>;
}

export function renderSupervisorMetrics(c: SupervisorCounts): string {
  const lines = [
    '# HELP bitville_daemon_worker_restarts_total Workers started after the first, by reason',
    '# TYPE bitville_daemon_worker_restarts_total counter',
    ...Object.entries(c.restartsByReason).map(([reason, n]) => `bitville_daemon_worker_restarts_total{reason="${reason}"} ${n}`),
    '# HELP bitville_daemon_worker_up 1 while a worker accepts on the socket',
    '# TYPE bitville_daemon_worker_up gauge',
    `bitville_daemon_worker_up ${c.workerUp ? 1 : 0}`,
    '# HELP bitville_daemon_config_reloads_total SIGHUP reloads, by outcome',
    '# TYPE bitville_daemon_config_reloads_total counter',
    ...Object.entries(c.reloadsByOutcome).map(([outcome, n]) => `bitville_daemon_config_reloads_total{outcome="${outcome}"} ${n}`),
  ];
  return lines.join('\n') + '\n';
}

/** prom-client's text format version, so the worker's text and ours share one Content-Type. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
