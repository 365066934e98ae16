import type { Command } from 'commander';
import { ConfigError } from '../shared/config/config-error.js';

/** Flags every long-running role shares. */
export function addConfigFlags(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'YAML config file (DESIGN section 8)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .option('--log-format <format>', 'json (default) or pretty');
}

/** Prints a config problem list and exits 2, the code for "bad usage or configuration". */
export function exitOnConfigError(err: unknown): never {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}

/** Builds a partial config object from flags; undefined values are left out by deepMerge. */
export function logOverrides(opts: { logLevel?: string; logFormat?: string }): Record<string, unknown> {
  return { log: { level: opts.logLevel, format: opts.logFormat } };
}
