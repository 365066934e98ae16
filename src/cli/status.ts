import type { Command } from 'commander';
import { daemonConfigSchema } from '../shared/config/daemon-config.js';
import { readUpInfo } from './local-defaults.js';

interface StatusFlags {
  health?: string;
  upDir: string;
  json?: boolean;
}

interface HealthDoc {
  status: string;
  uptime_seconds: number;
  problems?: string[];
  stats: {
    buffer: Record<string, unknown>;
    ingest: Record<string, unknown>;
    forward: Record<string, unknown>;
    circuit_breaker: Record<string, unknown>;
    dropped: Record<string, number>;
    worker: Record<string, unknown>;
  };
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description("print a daemon's /health readably (exit 0 ok/degraded, 1 failing or unreachable)")
    .option('--health <host:port|url>', 'daemon health address (default: from <up-dir>/up.json, else 127.0.0.1:9191)')
    .option('--up-dir <dir>', 'folder of a `bitville-apm up`', './.bitville')
    .option('--json', 'print the raw /health document')
    .action(async (flags: StatusFlags) => {
      const addr = flags.health ?? readUpInfo(flags.upDir)?.health ?? daemonConfigSchema.parse({}).health;
      const url = `${addr.startsWith('http') ? addr : `http://${addr}`}/health`;
      let doc: HealthDoc;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
        doc = (await res.json()) as HealthDoc;
      } catch (err) {
        console.error(`daemon not reachable at ${url}: ${(err as Error).message}`);
        process.exit(1);
      }
      if (flags.json) console.log(JSON.stringify(doc, null, 2));
      else console.log(formatHealth(doc));
      process.exit(doc.status === 'failing' ? 1 : 0);
    });
}

export function formatHealth(h: HealthDoc): string {
  const b = h.stats.buffer;
  const i = h.stats.ingest;
  const f = h.stats.forward;
  const cb = h.stats.circuit_breaker;
  const dropped = Object.entries(h.stats.dropped).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  return [
    `status:   ${h.status}${h.problems?.length ? ` (${h.problems.join(', ')})` : ''}, up ${h.uptime_seconds} s`,
    `ingest:   accepted ${String(i.accepted)}, rejected ${String(i.rejected)} ${JSON.stringify(i.rejected_by_reason)}`,
    `buffer:   ${String(b.memory_buffer_count)}/${String(b.memory_buffer_limit)} in memory, ${String(b.disk_items)} items in ${String(b.disk_file_count)} spool files (${String(b.disk_bytes)} bytes), oldest ${String(b.oldest_item_age_seconds)} s`,
    `forward:  ${f.items_sent === undefined ? 'off' : `${String(f.items_sent)} items in ${String(f.batches_sent)} batches, last error ${String(f.last_error ?? 'none')}`}`,
    `circuit:  ${String(cb.state)} (failures ${String(cb.failure_count)}/${String(cb.failure_threshold)})`,
    `dropped:  ${dropped}`,
    `worker:   ${String(h.stats.worker.memory_usage_mb)} MB RSS, restarts ${String(h.stats.worker.restarts)}`,
  ].join('\n');
}
