import type { Command } from 'commander';
import { listenerConfigSchema, type ListenerConfig } from '../shared/config/listener-config.js';
import { deepMerge, loadConfig } from '../shared/config/load-config.js';
import { createLogger } from '../shared/telemetry/logger.js';
import { addConfigFlags, exitOnConfigError, logOverrides } from './common.js';
import { runRoleUntilSignal } from './run-role.js';

export interface ListenerFlags {
  config?: string;
  listen?: string;
  dataDir?: string;
  insecureDev?: boolean;
  logLevel?: string;
  logFormat?: string;
}

export function listenerOverrides(f: ListenerFlags): Record<string, unknown> {
  return deepMerge(logOverrides(f), { listen: f.listen, dataDir: f.dataDir });
}

export function loadListenerConfig(f: ListenerFlags): Readonly<ListenerConfig> {
  try {
    return loadConfig(listenerConfigSchema, { file: f.config, overrides: listenerOverrides(f) });
  } catch (err) {
    exitOnConfigError(err);
  }
}

export function registerListenerCommand(program: Command): void {
  addConfigFlags(program.command('listener'))
    .description('run the central listener: authenticated ingest, SQLite store, search and statistics API')
    .option('--listen <host:port>', 'HTTP address (port 0 picks a free port; the log line "listener listening" has the URL)')
    .option('--data-dir <dir>', 'folder for listener.db')
    .option('--insecure-dev', 'start without a token; requests without one may read and write everything')
    .action(async (flags: ListenerFlags) => {
      const config = loadListenerConfig(flags);
      const log = createLogger({ level: config.log.level, format: config.log.format, base: { role: 'listener' } });
      await runRoleUntilSignal('listener', log, async () => {
        // Loaded here, not at the top: other subcommands (the daemon's supervisor above all) must
        // not pay for SQLite and the listener's HTTP stack in their memory.
        const { startListener } = await import('../listener/main.js');
        return startListener(config, log, { insecureDev: flags.insecureDev === true });
      });
    });
}
