#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from '../shared/version.js';
import { registerDaemonCommand } from './daemon.js';
import { registerListenerCommand } from './listener.js';
import { registerUpCommand } from './up.js';
import { registerStatusCommand } from './status.js';
import { registerSendCommand } from './send.js';
import { registerSpoolCommand } from './spool.js';
import { registerConfigCommand } from './config.js';
import { registerStoreCommand } from './store.js';
import { registerPgAgentCommand } from './pg-agent.js';
import { registerDoctorCommand } from './doctor.js';
import { reportStartFailure } from './fatal.js';

// One CLI for every role (DESIGN section 1); each subcommand lives in its own file.
const program = new Command('bitville-apm')
  .description('Bitville APM: find the requests, functions and SQL queries behind PHP load spikes')
  .version(VERSION)
  .option('--debug', 'stack traces with fatal errors (also BITVILLE_DEBUG=1)');

registerDaemonCommand(program);
registerListenerCommand(program);
registerUpCommand(program);
registerStatusCommand(program);
registerSendCommand(program);
registerSpoolCommand(program);
registerConfigCommand(program);
registerStoreCommand(program);
registerPgAgentCommand(program);
registerDoctorCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  reportStartFailure(process.argv[2] ?? 'cli', err, null);
  process.exit(1);
});
