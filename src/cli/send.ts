import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { hostname } from 'node:os';
import { daemonConfigSchema } from '../shared/config/daemon-config.js';
import { readUpInfo } from './local-defaults.js';

interface SendFlags {
  socket?: string;
  upDir: string;
  file?: string;
  count: string;
  project: string;
}

/** A PHP-shaped sample profile (DESIGN section 9) with a fresh correlation id. */
export function sampleProfile(project: string): Record<string, unknown> {
  const now = Date.now() / 1000;
  return {
    correlation_id: randomUUID(),
    project,
    timestamp: now,
    elapsed_ms: 812.4,
    threshold_ms: 500,
    request: { method: 'GET', uri: '/checkout/confirm?order=1042', headers: { Host: 'shop.example' } },
    response: { status_code: 200 },
    timing: { start_time: now - 0.8124, end_time: now, duration_ms: 812.4 },
    sql: { queries: [{ query: 'SELECT * FROM orders WHERE id = 1042', duration_ms: 402.7 }], total_queries: 1, total_duration_ms: 402.7 },
    server: { hostname: hostname(), php_version: '8.2.0', sapi: 'cli' },
    custom: { sent_by: 'bitville-apm send' },
  };
}

export function registerSendCommand(program: Command): void {
  program
    .command('send')
    .description('send sample (or given) profiles to a daemon socket, for smoke tests')
    .option('--socket <path>', 'daemon socket (default: from <up-dir>/up.json, else the production path)')
    .option('--up-dir <dir>', 'folder of a `bitville-apm up`', './.bitville')
    .option('--file <payload.json>', 'send this JSON object instead of a sample (a fresh correlation_id is set when --count > 1)')
    .option('--count <n>', 'how many profiles', '1')
    .option('--project <name>', 'project of sample profiles', 'demo')
    .action(async (flags: SendFlags) => {
      const socket = flags.socket ?? readUpInfo(flags.upDir)?.socket ?? daemonConfigSchema.parse({}).socket;
      const count = Number(flags.count);
      if (!Number.isInteger(count) || count < 1) {
        console.error(`--count must be a positive integer, got ${flags.count}`);
        process.exit(2);
      }
      const given = flags.file ? (JSON.parse(readFileSync(flags.file, 'utf8')) as Record<string, unknown>) : null;
      const lines: string[] = [];
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const p = given ? { ...given, ...(count > 1 ? { correlation_id: randomUUID() } : {}) } : sampleProfile(flags.project);
        ids.push(String(p.correlation_id));
        lines.push(JSON.stringify(p) + '\n');
      }
      try {
        await writeAll(socket, lines.join(''));
      } catch (err) {
        console.error(`cannot send to ${socket}: ${(err as Error).message}`);
        process.exit(1);
      }
      console.log(`sent ${count} profile(s) to ${socket}`);
      for (const id of ids) console.log(`  ${id}`);
    });
}

function writeAll(socket: string, data: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = createConnection(socket, () => c.end(data));
    c.on('error', reject);
    c.on('close', (hadError) => (hadError ? undefined : resolve()));
    c.resume();
  });
}
