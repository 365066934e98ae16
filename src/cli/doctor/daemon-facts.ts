import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { daemonConfigSchema, type DaemonConfig } from '../../shared/config/daemon-config.js';
import { ConfigError, loadConfig } from '../../shared/config/load-config.js';
import type { DaemonRuntimeInfo } from '../../daemon/daemon-paths.js';
import type { Account, Accounts } from './accounts.js';
import { fail, ok, type CheckResult } from './check-result.js';

export const PRODUCTION_CONFIG = '/etc/bitville-apm/daemon.yaml';

export type ConfigFinding = { kind: 'ok'; config: Readonly<DaemonConfig>; file: string | null; result: CheckResult } | { kind: 'invalid'; result: CheckResult };

/**
 * The daemon config the doctor judges, found as the daemon's own unit would: --config, else the
 * package's /etc/bitville-apm/daemon.yaml, else the one `bitville-apm up` wrote, else the
 * defaults; BITVILLE_* environment variables apply as they do for the daemon.
 */
export function readDaemonConfig(flag: string | undefined, upDir: string): ConfigFinding {
  const file = flag ?? [PRODUCTION_CONFIG, join(upDir, 'daemon.yaml')].find((f) => existsSync(f)) ?? null;
  try {
    const config = loadConfig(daemonConfigSchema, { file: file ?? undefined });
    const where = file ?? `built-in defaults (no ${PRODUCTION_CONFIG})`;
    return { kind: 'ok', config, file, result: ok('config', `${where}: valid daemon config`) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { kind: 'invalid', result: fail('config', `${file ?? 'the defaults with BITVILLE_* variables'}: ${err.problems.join('; ')}`, `fix the file (bitville-apm config check --config ${file ?? '<file>'} lists every problem)`) };
  }
}

/** What the running daemon wrote at start (its pid and real health address), if it is alive. */
export function runtimeInfo(dataDir: string): DaemonRuntimeInfo | null {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, 'state', 'daemon.json'), 'utf8')) as DaemonRuntimeInfo;
    return existsSync(`/proc/${info.pid}`) ? info : null;
  } catch {
    return null;
  }
}

/** Health address: --health, else the config's; a port 0 there is the one the running daemon got. */
export function healthAddress(flag: string | undefined, config: DaemonConfig, info: DaemonRuntimeInfo | null): string {
  if (flag) return flag;
  return /:0$/.test(config.health) && info ? info.health : config.health;
}

function uidOf(pid: number): number | null {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Who the daemon runs as: --daemon-user, the running daemon's uid, the package's user, the data folder's owner. */
export function daemonAccount(flag: string | undefined, dataDir: string, info: DaemonRuntimeInfo | null, accounts: Accounts): { account: Account | null; how: string } {
  if (flag) return { account: accounts.find(flag), how: '--daemon-user' };
  const uid = info ? uidOf(info.pid) : null;
  if (uid !== null) return { account: accounts.find(uid), how: `the running daemon (pid ${info?.pid ?? '?'})` };
  const pkg = accounts.find('bitville-apm');
  if (pkg) return { account: pkg, how: "the package's user" };
  try {
    return { account: accounts.find(statSync(dataDir).uid), how: `the owner of ${dataDir}` };
  } catch {
    return { account: accounts.find(process.getuid?.() ?? 0), how: 'this user' };
  }
}
