import type { Command } from 'commander';
import { addConfigFlags } from './common.js';
import type { DaemonFlags } from './daemon-config-load.js';

export type { DaemonFlags };

/** The daemon's own flags as given on the command line (everything after `daemon`). */
function daemonArgs(): string[] {
  const i = process.argv.indexOf('daemon');
  return i === -1 ? [] : process.argv.slice(i + 1);
}

function withDaemonFlags(cmd: Command): Command {
  return addConfigFlags(cmd)
    .option('--socket <path>', 'Unix socket path')
    .option('--data-dir <dir>', 'spool, inbox, quarantine and state folder')
    .option('--health <host:port>', 'health and metrics address')
    .option('--udp <host:port>', 'also accept UDP datagrams here')
    .option('--buffer-mode <mode>', 'memory or durable')
    .option('--forward-url <url>', 'listener base URL')
    .option('--forward-token <token>', 'listener bearer token');
}

/**
 * Only commander and this file load when the command line is parsed; the supervisor and the
 * config validation are imported when they run, so the long-lived supervisor process carries
 * neither the other roles' libraries nor the schema library (issue 10).
 */
export function registerDaemonCommand(program: Command): void {
  withDaemonFlags(program.command('daemon'))
    .description('run the agent daemon: accept profiles from PHP, buffer, spool, forward')
    .action(async () => {
      const { runDaemon } = await import('./daemon-run.js');
      await runDaemon(daemonArgs());
    });
  // Used by the daemon itself (daemon-config-child.ts): prints {config} or {problems} as JSON.
  withDaemonFlags(program.command('__daemon-config', { hidden: true })).action(async (flags: DaemonFlags) => {
    const { loadDaemonConfig } = await import('./daemon-config-load.js');
    const { ConfigError } = await import('../shared/config/config-error.js');
    try {
      process.stdout.write(JSON.stringify({ config: loadDaemonConfig(flags) }));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stdout.write(JSON.stringify({ problems: err.problems }));
      process.exitCode = 2;
    }
  });
}
