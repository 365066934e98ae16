import type { Command } from 'commander';
import { deepMerge, loadConfig } from '../shared/config/load-config.js';
import { pgAgentConfigSchema, type PgAgentConfig } from '../shared/config/pg-agent-config.js';
import { createLogger } from '../shared/telemetry/logger.js';
import { addConfigFlags, exitOnConfigError, logOverrides } from './common.js';
import { runRoleUntilSignal } from './run-role.js';

interface PgAgentFlags {
  config?: string;
  database?: string;
  health?: string;
  logLevel?: string;
  logFormat?: string;
}

export function loadPgAgentConfig(f: PgAgentFlags): Readonly<PgAgentConfig> {
  try {
    return loadConfig(pgAgentConfigSchema, { file: f.config, overrides: deepMerge(logOverrides(f), { database: f.database, health: f.health }) });
  } catch (err) {
    exitOnConfigError(err);
  }
}

export function registerPgAgentCommand(program: Command): void {
  addConfigFlags(program.command('pg-agent'))
    .description('watch a PostgreSQL server (activity, locks, statements, server log, host) and send it to the daemon or a listener')
    .option('--database <url>', 'postgres:// URL of the monitored database (a pg_monitor role is enough)')
    .option('--health <host:port>', 'address of /health and /metrics (port 0 picks a free port)')
    .action(async (flags: PgAgentFlags) => {
      const config = loadPgAgentConfig(flags);
      const log = createLogger({ level: config.log.level, format: config.log.format, base: { role: 'pg-agent' } });
      await runRoleUntilSignal('pg-agent', log, async () => {
        const { startPgAgent } = await import('../pg-agent/main.js');
        return startPgAgent(config, log);
      });
    });
}
