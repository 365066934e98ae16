import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fail, ok, warn, type CheckResult } from './check-result.js';
import { clientView, type ClientView } from './client-settings.js';
import type { FpmPool } from './fpm-pools.js';
import { iniWordValue } from './ini-file.js';

export interface PoolCheckOptions {
  daemonSocket: string;
  daemonInbox: string;
  /** The client's INI file when a pool does not name one (--php-ini). */
  phpIni: string;
  poolDirs: readonly string[];
  fpmUserFlag: string | undefined;
}

const EXAMPLE = '/usr/share/bitville-apm/examples/php-fpm-pool.conf';

/** /var/run/x and /run/x are the same socket: compare real paths where they exist. */
function canonical(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    try {
      return join(realpathSync(dirname(p)), basename(p));
    } catch {
      return resolve(p);
    }
  }
}

function describeSource(v: ClientView): string {
  const s = v.settings;
  const where = v.iniFile ? `the INI file ${v.iniFile}` : `its defaults (${v.noIniReason ?? 'no INI file'})`;
  return `${where}: project "${s.project_name.value}", socket ${s.daemon_socket_path.value}, inbox ${s.inbox_path.value}`;
}

/** One result per FPM pool: the client's settings in it and whether they reach this daemon. */
export function checkPools(pools: readonly FpmPool[], o: PoolCheckOptions): CheckResult[] {
  if (pools.length === 0) {
    const where = o.poolDirs.length > 0 ? o.poolDirs.join(', ') : '/etc/php/*/fpm/pool.d';
    if (o.fpmUserFlag) return [ok('fpm pools', `no PHP-FPM pool files in ${where}; permissions checked for ${o.fpmUserFlag} (--fpm-user)`)];
    return [warn('fpm pools', `no PHP-FPM pool files in ${where}; permissions checked for www-data`, 'pass --fpm-pool-dir <dir> (or --fpm-user <user> for PHP that does not run under FPM)')];
  }
  return pools.map((pool) => checkPool(pool, o));
}

function checkPool(pool: FpmPool, o: PoolCheckOptions): CheckResult {
  const name = `fpm pool ${pool.name}`;
  const failures: Array<[string, string]> = [];
  const warnings: Array<[string, string]> = [];
  for (const [env, e] of pool.env) {
    if (!e.quoted && iniWordValue(e) === '') {
      failures.push([
        `env[${env}] = ${e.value || '(nothing)'} (${pool.file}:${e.line}) is an empty value to FPM, which then refuses to start or reload`,
        `quote it: env[${env}] = "${e.value || 'false'}"`,
      ]);
    }
  }
  const v = clientView(pool, o.phpIni);
  const s = v.settings;
  // With clear_env = no the master's environment reaches PHP too; that is not visible from here.
  const unseen = !pool.clearEnv && v.envCount === 0;
  const mismatch = (key: 'daemon_socket_path' | 'inbox_path', daemon: string, what: string): void => {
    const set = s[key];
    if (canonical(set.value) === canonical(daemon)) return;
    const text = `the client's ${what} is ${set.value} (${set.from}) but the daemon's is ${daemon}`;
    const fix = `set env[BITVILLE_APM_${key.toUpperCase()}] = "${daemon}" in ${pool.file}`;
    (unseen ? warnings : failures).push([unseen ? `${text}, unless the FPM master's environment sets it` : text, fix]);
  };
  if (v.enabled) {
    mismatch('daemon_socket_path', o.daemonSocket, 'socket');
    mismatch('inbox_path', o.daemonInbox, 'inbox');
  } else {
    warnings.push([`the client is switched off here (profiling_enabled = ${s.profiling_enabled.value} from ${s.profiling_enabled.from})`, 'remove that setting to report slow requests of this pool']);
  }
  if (pool.clearEnv && v.envCount === 0) {
    warnings.push([
      `clear_env = yes and no env[BITVILLE_APM_*] lines, so the client uses ${describeSource(v)}`,
      `add the env[...] lines of ${EXAMPLE} to ${pool.file} (quoted), unless that is what you meant`,
    ]);
  }
  const user = pool.user ?? '(no user = line)';
  const all = [...failures, ...warnings];
  if (failures.length > 0) return fail(name, `${pool.file}: ${all.map(([m]) => m).join('; ')}`, all.map(([, f]) => f).join('; '));
  if (warnings.length > 0) return warn(name, `${pool.file}: ${warnings.map(([m]) => m).join('; ')}`, warnings.map(([, f]) => f).join('; '));
  const env = pool.clearEnv ? `clear_env = yes, ${v.envCount} env[BITVILLE_APM_*] lines` : 'clear_env = no';
  return ok(name, `${pool.file}: user ${user}, ${env}; project "${s.project_name.value}" (${s.project_name.from}), socket and inbox match the daemon's`);
}
