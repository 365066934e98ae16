import type { Command } from 'commander';
import { daemonPaths } from '../daemon/daemon-paths.js';
import { readAccounts, type Account } from './doctor/accounts.js';
import { exitCodeFor, fail, formatResult, summarize, type CheckResult } from './doctor/check-result.js';
import { CLIENT_INI } from './doctor/client-settings.js';
import { daemonAccount, healthAddress, readDaemonConfig, runtimeInfo } from './doctor/daemon-facts.js';
import { defaultPoolDirs, poolFiles, readPools } from './doctor/fpm-pools.js';
import { checkDisk, checkInbox, checkSocket } from './doctor/local-checks.js';
import { checkClock, checkHealth, checkListener } from './doctor/network-checks.js';
import { checkPools } from './doctor/pool-checks.js';

interface DoctorFlags {
  config?: string;
  upDir: string;
  fpmPoolDir: string[];
  fpmUser?: string;
  daemonUser?: string;
  phpIni: string;
  health?: string;
  timeoutMs: string;
  json?: boolean;
  strict?: boolean;
}

const collect = (v: string, all: string[]) => [...all, v];

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description("check this web host's setup end to end and say what to fix (exit 0: nothing failed)")
    .option('-c, --config <file>', "the daemon's config (default /etc/bitville-apm/daemon.yaml, else <up-dir>/daemon.yaml, else defaults)")
    .option('--up-dir <dir>', 'folder of a `bitville-apm up`', './.bitville')
    .option('--fpm-pool-dir <dir>', 'PHP-FPM pool folder (repeatable; default /etc/php/*/fpm/pool.d)', collect, [])
    .option('--fpm-user <user>', "the PHP user to check permissions for (default: the pools' user = lines)")
    .option('--daemon-user <user>', 'the user the daemon runs as (default: the running daemon, else bitville-apm)')
    .option('--php-ini <file>', "the PHP client's INI file when a pool names none", CLIENT_INI)
    .option('--health <host:port>', "the daemon's health address (default: the config's)")
    .option('--timeout-ms <ms>', 'per network check', '3000')
    .option('--json', 'print the results as JSON')
    .option('--strict', 'warnings fail too (exit 1)')
    .action(async (flags: DoctorFlags) => {
      const results = await runDoctor(flags);
      const code = exitCodeFor(results, flags.strict === true);
      const counts = summarize(results);
      if (flags.json) console.log(JSON.stringify({ exit_code: code, summary: counts, checks: results }, null, 2));
      else console.log([...results.map(formatResult), `${counts.ok} ok, ${counts.warn} warning(s), ${counts.fail} failed`].join('\n'));
      process.exit(code);
    });
}

export async function runDoctor(flags: DoctorFlags): Promise<CheckResult[]> {
  const found = readDaemonConfig(flags.config, flags.upDir);
  if (found.kind === 'invalid') return [found.result];
  const { config } = found;
  const timeoutMs = Number(flags.timeoutMs) > 0 ? Number(flags.timeoutMs) : 3000;
  const paths = daemonPaths(config.dataDir);
  const accounts = readAccounts();
  const info = runtimeInfo(paths.root);
  const results: CheckResult[] = [found.result];

  const poolDirs = flags.fpmPoolDir.length > 0 ? flags.fpmPoolDir : defaultPoolDirs();
  const pools = readPools(poolFiles(poolDirs));
  const userNames = flags.fpmUser ? [flags.fpmUser] : [...new Set(pools.map((p) => p.user ?? 'www-data'))];
  if (userNames.length === 0) userNames.push('www-data');
  const fpmUsers: Account[] = [];
  for (const name of userNames) {
    const a = accounts.find(name);
    if (a) fpmUsers.push(a);
    else results.push(fail('fpm user', `${name} is not in /etc/passwd`, 'pass --fpm-user <the user PHP runs as>'));
  }
  const daemon = daemonAccount(flags.daemonUser, paths.root, info, accounts);

  const forward = config.forward as Record<string, unknown>;
  // forward.urls (several listeners) where the config has it, else forward.url; null = forwarding off.
  const urls = Array.isArray(forward.urls) ? forward.urls.map(String) : typeof forward.url === 'string' ? [forward.url] : [];
  const [socket, health, ...listeners] = await Promise.all([
    checkSocket(config.socket, fpmUsers, accounts, timeoutMs),
    checkHealth(healthAddress(flags.health, config, info), timeoutMs),
    ...urls.map((u) => checkListener(u, config.forward.token, timeoutMs)),
  ]);
  results.push(socket, health);
  if (daemon.account) results.push(checkInbox(paths.inbox, fpmUsers, daemon.account, accounts));
  else results.push(fail('inbox', `cannot tell who the daemon runs as (${daemon.how}: unknown user)`, 'pass --daemon-user <user>'));
  results.push(...checkPools(pools, { daemonSocket: config.socket, daemonInbox: paths.inbox, phpIni: flags.phpIni, poolDirs, fpmUserFlag: flags.fpmUser }));
  if (urls.length === 0) {
    results.push(fail('listener', 'forwarding is off (forward.url: null): profiles stay in the spool until it fills', "set forward.url and forward.token to the listener's"));
  } else {
    results.push(...listeners.map((l) => l.listener), checkClock(listeners));
  }
  results.push(checkDisk(paths.spool, config.spool));
  return results;
}
