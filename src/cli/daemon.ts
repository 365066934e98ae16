import type { Command } from 'commander';
import { daemonConfigSchema, type DaemonConfig } from '../shared/config/daemon-config.js';
import { loadConfig, deepMerge } from '../shared/config/load-config.js';
import { createLogger } from '../shared/telemetry/logger.js';
import { installSignalHandlers } from '../daemon/lifecycle/signals.js';
import { createSupervisor } from '../daemon/lifecycle/supervisor.js';
import { addConfigFlags, exitOnConfigError, logOverrides } from './common.js';
import { reportStartFailure } from './fatal.js';

export interface DaemonFlags {
  config?: string;
  socket?: string;
  dataDir?: string;
  health?: string;
  udp?: string;
  bufferMode?: string;
  forwardUrl?: string;
  forwardToken?: string;
  logLevel?: string;
  logFormat?: string;
}

export function daemonOverrides(f: DaemonFlags): Record<string, unknown> {
  return deepMerge(logOverrides(f), {
    socket: f.socket,
    dataDir: f.dataDir,
    health: f.health,
    udp: f.udp,
    buffer: { mode: f.bufferMode },
    forward: { url: f.forwardUrl, token: f.forwardToken },
  });
}

export function loadDaemonConfig(f: DaemonFlags): Readonly<DaemonConfig> {
  try {
    return loadConfig(daemonConfigSchema, { file: f.config, overrides: daemonOverrides(f) });
  } catch (err) {
    exitOnConfigError(err);
  }
}

export function registerDaemonCommand(program: Command): void {
  addConfigFlags(program.command('daemon'))
    .description('run the agent daemon: accept profiles from PHP, buffer, spool, forward')
    .option('--socket <path>', 'Unix socket path')
    .option('--data-dir <dir>', 'spool, inbox, quarantine and state folder')
    .option('--health <host:port>', 'health and metrics address')
    .option('--udp <host:port>', 'also accept UDP datagrams here')
    .option('--buffer-mode <mode>', 'memory or durable')
    .option('--forward-url <url>', 'listener base URL')
    .option('--forward-token <token>', 'listener bearer token')
    .action(async (flags: DaemonFlags) => {
      const config = loadDaemonConfig(flags);
      const log = createLogger({ level: config.log.level, format: config.log.format, base: { role: 'daemon' } });
      const supervisor = createSupervisor({
        config,
        // SIGHUP: the same file, environment and flags as at start; a ConfigError lists every problem
        loadConfig: () => loadConfig(daemonConfigSchema, { file: flags.config, overrides: daemonOverrides(flags) }),
        log,
      });
      // Handlers first: a SIGTERM that arrives while the daemon starts must still mean a graceful
      // stop (once start-up is over), never the default action that kills the process outright.
      const started = supervisor.start();
      const afterStart = started.then(
        () => undefined,
        () => undefined,
      );
      installSignalHandlers({
        log,
        stop: () => afterStart.then(() => supervisor.stop()),
        killNow: () => supervisor.killNow(),
        reload: () => void afterStart.then(() => supervisor.reload()),
      });
      try {
        await started;
      } catch (err) {
        reportStartFailure('daemon', err, log);
        process.exitCode = 1;
        setImmediate(() => process.exit(1));
      }
    });
}
