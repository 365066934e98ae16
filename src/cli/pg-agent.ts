import type { Command } from 'commander';
import { deepMerge, loadConfig } from '../shared/config/load-config.js';
import { pgAgentConfigSchema, type PgAgentConfig } from '../shared/config/pg-agent-config.js';
import { createLogger } from '../shared/telemetry/logger.js';
import type { RunningPgAgent } from '../pg-agent/main.js';
import { addConfigFlags, exitOnConfigError, logOverrides } from './common.js';

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
      let running: RunningPgAgent;
      try {
        const { startPgAgent } = await import('../pg-agent/main.js');
        running = await startPgAgent(config, log);
      } catch (err) {
        log.fatal({ err }, `pg-agent failed to start: ${(err as Error).message}`);
        process.exitCode = 1;
        setImmediate(() => process.exit(1));
        return;
      }
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (stopping) process.exit(1); // a second signal means now
        stopping = true;
        log.info({ signal }, 'stopping');
        running.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            log.fatal({ err }, 'stop failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      process.on('uncaughtException', (err) => {
        log.fatal({ err }, 'uncaught error: exiting so systemd restarts the agent');
        process.exit(1);
      });
    });
}
