import type { Command } from 'commander';
import { stringify } from 'yaml';
import { daemonConfigSchema } from '../shared/config/daemon-config.js';
import { listenerConfigSchema } from '../shared/config/listener-config.js';
import { pgAgentConfigSchema } from '../shared/config/pg-agent-config.js';
import { ConfigError, loadConfig } from '../shared/config/load-config.js';

interface ConfigFlags {
  config?: string;
  role: string;
}

function load(flags: ConfigFlags): Record<string, unknown> {
  if (flags.role === 'pg-agent') return loadConfig(pgAgentConfigSchema, { file: flags.config });
  if (flags.role !== 'daemon' && flags.role !== 'listener') {
    console.error(`--role must be daemon, listener or pg-agent, got ${flags.role}`);
    process.exit(2);
  }
  const schema = flags.role === 'daemon' ? daemonConfigSchema : listenerConfigSchema;
  return loadConfig(schema, { file: flags.config });
}

export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('validate or print a config file (with BITVILLE_* overrides applied)');
  const common = (c: Command) =>
    c.option('-c, --config <file>', 'YAML config file').option('--role <role>', 'daemon, listener or pg-agent', 'daemon');

  common(config.command('check'))
    .description('exit 0 if the config is valid; otherwise list every problem and exit 2')
    .action((flags: ConfigFlags) => {
      try {
        load(flags);
        console.log(`${flags.config ?? '(defaults)'}: valid ${flags.role} config`);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        console.error(err.message);
        process.exit(2);
      }
    });

  common(config.command('print'))
    .description('print the effective config (defaults, file, environment) as YAML')
    .action((flags: ConfigFlags) => {
      try {
        process.stdout.write(stringify(load(flags)));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        console.error(err.message);
        process.exit(2);
      }
    });
}
