import type { PgAgentConfig } from '../shared/config/pg-agent-config.js';
import { createHealthServer } from '../shared/http/health-server.js';
import type { Logger } from '../shared/telemetry/logger.js';
import { rateLimitedLog } from '../shared/telemetry/rate-limited-log.js';
import { createRecordFactory } from './agent-record.js';
import { createCollectorLoop, UNPACED, type CollectorLoop } from './collector-loop.js';
import { collectActivity, type ActivitySample } from './collectors/activity-collector.js';
import { collectLocks } from './collectors/locks-collector.js';
import { createStatementsCollector } from './collectors/statements-collector.js';
import { createSystemCollector } from './collectors/system-collector.js';
import { createDbBudget } from './db/db-budget.js';
import { createMonitorConnection } from './db/monitor-connection.js';
import { agentHealth } from './health/agent-health.js';
import { createAgentMetrics, type CollectorName, type RunOutcome } from './health/agent-metrics.js';
import { createLogCollector } from './log-collector.js';
import { createRecordSender } from './send/record-sender.js';
import { httpTransport, socketTransport } from './send/transports.js';

export interface RunningPgAgent {
  /** "host:port" the health server bound. */
  health: string;
  stop(): Promise<void>;
}

type Run = Promise<{ outcome: RunOutcome; error?: string }>;

/** Wiring only: one connection, one budget, the collectors on their intervals, one sender. */
export async function startPgAgent(config: Readonly<PgAgentConfig>, log: Logger): Promise<RunningPgAgent> {
  const started = Date.now();
  const metrics = createAgentMetrics();
  const logLimited = rateLimitedLog(log);
  const budget = createDbBudget({ maxMsPerSecond: config.safety.maxDbTimePerSecondMs, maxQueryMs: config.safety.statementTimeoutMs });
  let serverVersionNum = 0;
  const statements = createStatementsCollector();
  const db = createMonitorConnection({
    url: config.database,
    statementTimeoutMs: config.safety.statementTimeoutMs,
    lockTimeoutMs: config.safety.lockTimeoutMs,
    maxReconnectDelayMs: config.safety.maxReconnectDelayMs,
    log,
    onQueryMs: (name, ms) => {
      budget.record(ms);
      const collector = name.startsWith('statements') ? 'statements' : name;
      metrics.dbSeconds.inc({ collector }, ms / 1000);
      metrics.queries.inc({ collector });
    },
    onConnected: (info) => {
      serverVersionNum = info.serverVersionNum;
      statements.reset(); // the server may be another one (failover) or restarted: new baseline
      metrics.connects.inc();
    },
  });
  const direct = config.send.url !== null;
  const sender = createRecordSender({
    transport: direct ? httpTransport(config.send.url as string, config.send.token, config.send.timeoutMs) : socketTransport(config.send.socket, config.send.timeoutMs),
    bufferItems: config.send.bufferItems,
    bufferBytes: config.send.bufferBytes,
    flushIntervalMs: config.send.flushIntervalMs,
    log,
    onDropped: (reason, n) => metrics.dropped.inc({ reason }, n),
  });
  const makeRecord = createRecordFactory(config.project);
  const emit = (source: Parameters<typeof makeRecord>[0], data: Record<string, unknown>) => {
    metrics.records.inc({ source });
    sender.enqueue(makeRecord(source, data));
  };

  let lastActivity: { at: number; sample: ActivitySample } | null = null;
  let statementsMissingLogged = false;
  const system = createSystemCollector();
  const logs = config.logs.path ? createLogCollector(config.logs.path, config.logs.format, metrics) : null;

  const runs: Record<CollectorName, () => Run> = {
    async activity() {
      const cpu = process.cpuUsage();
      const r = await collectActivity(db);
      if (r.kind === 'unavailable') return { outcome: 'unavailable' };
      if (r.kind === 'error') return { outcome: 'error', error: `${r.code}: ${r.message}` };
      lastActivity = { at: Date.now(), sample: r.value };
      emit('pg_stat_activity', { ...r.value });
      const used = process.cpuUsage(cpu);
      metrics.cpuPerSample.set((used.user + used.system) / 1e6);
      return { outcome: 'ok' };
    },
    async locks() {
      // Nobody waited in the last activity sample: the blocking tree is empty, save the query.
      if (config.intervals.activityMs > 0 && lastActivity && Date.now() - lastActivity.at < config.intervals.activityMs * 3 && lastActivity.sample.blocked === 0) return { outcome: 'skipped' };
      const r = await collectLocks(db, serverVersionNum);
      if (r.kind === 'unavailable') return { outcome: 'unavailable' };
      if (r.kind === 'error') return { outcome: 'error', error: `${r.code}: ${r.message}` };
      if (r.value.count > 0) emit('pg_locks', { ...r.value });
      return { outcome: 'ok' };
    },
    async statements() {
      const r = await statements.collect(db);
      if (r.kind === 'missing') {
        if (!statementsMissingLogged) log.warn({ collector: 'statements' }, `pg_stat_statements unavailable, statement statistics are off (the other collectors keep running): ${r.message}`);
        statementsMissingLogged = true;
        return { outcome: 'missing', error: r.message };
      }
      if (r.kind === 'unavailable') return { outcome: 'unavailable' };
      if (r.kind === 'error') return { outcome: 'error', error: `${r.code}: ${r.message}` };
      statementsMissingLogged = false;
      if (r.value && r.value.statements.length > 0) emit('pg_stat_statements', { ...r.value });
      return { outcome: 'ok' };
    },
    async system() {
      const sample = await system.collect();
      const a = lastActivity?.sample;
      const connections = a ? { total: Object.values(a.by_state).reduce((x, y) => x + y, 0), by_state: a.by_state, max_connections: a.max_connections } : null;
      emit('system_metrics', { ...sample, connections });
      return { outcome: 'ok' };
    },
    async logs() {
      if (!logs) return { outcome: 'skipped' };
      for (const batch of await logs.poll()) emit('pg_log', { events: batch.events, count: batch.events.length, file: batch.file });
      return { outcome: 'ok' };
    },
  };

  const intervals: Record<CollectorName, number> = {
    activity: config.intervals.activityMs,
    locks: config.intervals.locksMs,
    statements: config.intervals.statementsMs,
    system: config.intervals.systemMs,
    logs: logs ? config.logs.pollMs : 0,
  };
  const loops = new Map<CollectorName, CollectorLoop>();
  for (const name of Object.keys(runs) as CollectorName[]) {
    // Reading the log file and /proc costs the database nothing: no slowdown for those two.
    const pace = name === 'logs' || name === 'system' ? UNPACED : budget;
    loops.set(name, createCollectorLoop({ name, intervalMs: intervals[name], pace, run: runs[name], onOutcome: (outcome) => metrics.runs.inc({ collector: name, outcome }), logLimited }));
  }

  const health = createHealthServer({
    bind: config.health,
    report: () => Promise.resolve(agentHealth({ started, db: db.stats(), budget: { msPerSecond: budget.msPerSecond(), max: config.safety.maxDbTimePerSecondMs, slowdown: budget.slowdown(), waitMs: budget.waitMs() }, collectors: loops, sender: sender.stats(), send: direct ? { mode: 'url', target: config.send.url as string } : { mode: 'socket', target: config.send.socket }, logs: logs?.tailer.stats() ?? null })),
    metrics: async () => {
      const d = db.stats();
      metrics.connected.set(d.state === 'up' ? 1 : 0);
      metrics.dbMsPerSecond.set(budget.msPerSecond());
      metrics.slowdown.set(budget.slowdown());
      const st = sender.stats();
      metrics.sent.set(st.sent);
      metrics.buffered.set(st.buffered);
      return { contentType: metrics.registry.contentType, text: await metrics.registry.metrics() };
    },
  });
  const bound = await health.start();
  db.start();
  sender.start();
  for (const loop of loops.values()) loop.start();
  log.info({ health: bound, send: direct ? config.send.url : config.send.socket, logs: config.logs.path }, 'pg-agent started');

  let stopping: Promise<void> | null = null;
  return {
    health: bound,
    stop() {
      stopping ??= (async () => {
        await Promise.all([...loops.values()].map((l) => l.stop()));
        if (logs) {
          for (const batch of await logs.poll().catch(() => [])) emit('pg_log', { events: batch.events, count: batch.events.length, file: batch.file });
          await logs.stop();
        }
        await db.stop();
        await sender.stop();
        await health.stop();
      })();
      return stopping;
    },
  };
}
