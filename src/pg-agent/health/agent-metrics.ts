import { Counter, Gauge, Registry } from 'prom-client';
import { collectProcessMetrics } from '../../shared/telemetry/process-metrics.js';

const P = 'bitville_pg_agent_';

export type CollectorName = 'activity' | 'locks' | 'statements' | 'system' | 'logs';
/** Closed set: ok, skipped (a previous run still going, or nothing to do), unavailable (database down), error, missing (extension). */
export type RunOutcome = 'ok' | 'skipped' | 'unavailable' | 'error' | 'missing';

/** Every pg-agent counter in one registry; /health reads the same values. */
export function createAgentMetrics() {
  const registry = new Registry();
  collectProcessMetrics(registry, P);
  const runs = new Counter({ name: `${P}collector_runs_total`, help: 'Collector runs, by outcome', labelNames: ['collector', 'outcome'], registers: [registry] });
  const dbSeconds = new Counter({ name: `${P}db_time_seconds_total`, help: 'Wall time of the agent\'s own queries (an upper bound of the database time it used)', labelNames: ['collector'], registers: [registry] });
  const queries = new Counter({ name: `${P}db_queries_total`, help: 'Queries the agent sent', labelNames: ['collector'], registers: [registry] });
  const dbMsPerSecond = new Gauge({ name: `${P}db_time_ms_per_second`, help: 'Database time used per second over the last 10 s', registers: [registry] });
  const slowdown = new Gauge({ name: `${P}slowdown_factor`, help: 'How much slower than configured the collectors run (1 = within safety.maxDbTimePerSecondMs)', registers: [registry] });
  const connected = new Gauge({ name: `${P}db_connected`, help: '1 while the agent\'s one database connection is up', registers: [registry] });
  const connects = new Counter({ name: `${P}db_connects_total`, help: 'Successful (re)connects to the database', registers: [registry] });
  const records = new Counter({ name: `${P}records_total`, help: 'Records produced, by source', labelNames: ['source'], registers: [registry] });
  const sent = new Gauge({ name: `${P}records_sent`, help: 'Records handed to the daemon socket or the listener', registers: [registry] });
  const buffered = new Gauge({ name: `${P}send_buffer_records`, help: 'Records waiting to be sent', registers: [registry] });
  const dropped = new Counter({ name: `${P}dropped_records_total`, help: 'Records dropped by policy, by reason', labelNames: ['reason'], registers: [registry] });
  const sendFailures = new Counter({ name: `${P}send_failures_total`, help: 'Failed send attempts (retried)', registers: [registry] });
  const logEvents = new Counter({ name: `${P}log_events_total`, help: 'Server log events sent, by kind', labelNames: ['kind'], registers: [registry] });
  const logLines = new Counter({ name: `${P}log_messages_total`, help: 'Server log messages read (all severities)', registers: [registry] });
  const logBad = new Counter({ name: `${P}log_unparsed_lines_total`, help: 'jsonlog lines that did not parse', registers: [registry] });
  const cpuPerSample = new Gauge({ name: `${P}activity_sample_cpu_seconds`, help: 'CPU time of the agent process for the last activity sample (query + record)', registers: [registry] });

  return { registry, runs, dbSeconds, queries, dbMsPerSecond, slowdown, connected, connects, records, sent, buffered, dropped, sendFailures, logEvents, logLines, logBad, cpuPerSample };
}

export type AgentMetrics = ReturnType<typeof createAgentMetrics>;
