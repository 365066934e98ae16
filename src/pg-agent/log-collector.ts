import type { AgentMetrics } from './health/agent-metrics.js';
import { classify, type LogEvent } from './logs/log-events.js';
import { createLogTailer, type LogTailer } from './logs/log-tailer.js';
import type { LogFormat } from './logs/log-entry.js';

export interface LogCollector {
  /** Reads what the server wrote since the last poll; returns the events worth sending (at most `maxEvents` per record). */
  poll(): Promise<{ events: LogEvent[]; file: string | null }[]>;
  tailer: LogTailer;
  stop(): Promise<void>;
}

const MAX_EVENTS_PER_RECORD = 500;

/** The server log as pg_log records: slow statements, lock waits, deadlocks and errors with their statement. */
export function createLogCollector(path: string, format: 'auto' | LogFormat, metrics: AgentMetrics): LogCollector {
  let pending: LogEvent[] = [];
  let lastFile: string | null = null;
  const tailer = createLogTailer({
    path,
    format,
    onBadLine: () => metrics.logBad.inc(),
    onEntries: (entries, file) => {
      lastFile = file;
      metrics.logLines.inc(entries.length);
      for (const e of entries) {
        const ev = classify(e);
        if (!ev) continue;
        metrics.logEvents.inc({ kind: ev.kind });
        pending.push(ev);
      }
    },
  });
  return {
    tailer,
    async poll() {
      await tailer.poll();
      const out: { events: LogEvent[]; file: string | null }[] = [];
      for (let i = 0; i < pending.length; i += MAX_EVENTS_PER_RECORD) out.push({ events: pending.slice(i, i + MAX_EVENTS_PER_RECORD), file: lastFile });
      pending = [];
      return out;
    },
    async stop() {
      await tailer.stop();
    },
  };
}
