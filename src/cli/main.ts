#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from '../shared/version.js';
import { reportStartFailure } from './fatal.js';

type Register = (program: Command) => void;

/**
 * One CLI for every role (DESIGN section 1); each subcommand lives in its own file. Only the file
 * of the command being run is loaded: the daemon's supervisor lives for weeks on a web server and
 * must not carry the listener's HTTP framework, database drivers or the schema library (issue 10).
 * Without a known command (e.g. `--help`), every command is loaded so help lists them all.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  daemon: async () => (await import('./daemon.js')).registerDaemonCommand,
  listener: async () => (await import('./listener.js')).registerListenerCommand,
  up: async () => (await import('./up.js')).registerUpCommand,
  status: async () => (await import('./status.js')).registerStatusCommand,
  send: async () => (await import('./send.js')).registerSendCommand,
  spool: async () => (await import('./spool.js')).registerSpoolCommand,
  config: async () => (await import('./config.js')).registerConfigCommand,
  store: async () => (await import('./store.js')).registerStoreCommand,
  'pg-agent': async () => (await import('./pg-agent.js')).registerPgAgentCommand,
  doctor: async () => (await import('./doctor.js')).registerDoctorCommand,
};
COMMANDS['__daemon-config'] = COMMANDS.daemon as () => Promise<Register>;

async function main(): Promise<void> {
  const program = new Command('bitville-apm')
    .description('Bitville APM: find the requests, functions and SQL queries behind PHP load spikes')
    .version(VERSION)
    .option('--debug', 'stack traces with fatal errors (also BITVILLE_DEBUG=1)');
  const name = process.argv.slice(2).find((a) => !a.startsWith('-'));
  const load = name === undefined ? undefined : COMMANDS[name];
  for (const register of load ? [load] : Object.values(COMMANDS).filter((l, i, all) => all.indexOf(l) === i)) (await register())(program);
  await program.parseAsync(process.argv);
}

main().catch((err: unknown) => {
  reportStartFailure(process.argv[2] ?? 'cli', err, null);
  process.exit(1);
});
