import { existsSync, readFileSync } from 'node:fs';
import { iniWordValue, parseIni } from './ini-file.js';
import type { FpmPool } from './fpm-pools.js';

/** The PHP client's defaults for the settings the doctor compares (clients/php/bitville-apm.php). */
export const CLIENT_DEFAULTS = {
  profiling_enabled: 'true',
  project_name: 'default',
  daemon_socket_path: '/var/run/bitville-apm/daemon.sock',
  inbox_path: '/var/lib/bitville-apm/inbox',
} as const;
export const CLIENT_INI = '/etc/bitville-apm/profiling.ini';

type Key = keyof typeof CLIENT_DEFAULTS;

export interface ClientSetting {
  value: string;
  /** `env[BITVILLE_APM_…]`, the INI file's path, or `default`. */
  from: string;
}

export interface ClientView {
  settings: Record<Key, ClientSetting>;
  enabled: boolean;
  /** The INI file the client reads in this pool, or null (none, missing, or BITVILLE_APM_CONFIG=none). */
  iniFile: string | null;
  /** Why no INI file is read, when none is. */
  noIniReason: string | null;
  /** env[BITVILLE_APM_*] lines of the pool. */
  envCount: number;
}

const envName = (k: Key) => `BITVILLE_APM_${k.toUpperCase()}`;
/** The client strips one pair of quotes that reach it literally (clients/php README). */
const unquote = (v: string) => (/^(["']).*\1$/s.test(v.trim()) ? v.trim().slice(1, -1).trim() : v.trim());

/** The client's boolean table: a word it does not know keeps the default (true). */
function clientBoolean(v: string): boolean {
  const w = v.toLowerCase();
  if (['0', 'false', 'off', 'no', 'none', ''].includes(w)) return false;
  return true;
}

/**
 * What the client will use in this pool: env[...] lines (what PHP sees with clear_env = yes)
 * over its INI file over its defaults, as the client itself decides (DESIGN section 10).
 * Constants defined by the application before the include win over all of these and are not visible here.
 */
export function clientView(pool: FpmPool, defaultIni: string): ClientView {
  const fromEnv = (name: string): string | null => {
    const e = pool.env.get(name);
    return e ? unquote(iniWordValue(e)) : null;
  };
  const configured = fromEnv('BITVILLE_APM_CONFIG');
  const iniPath = configured ?? defaultIni;
  let iniFile: string | null = null;
  let noIniReason: string | null = null;
  const ini = new Map<string, string>();
  if (iniPath === '' || iniPath === 'none') noIniReason = 'env[BITVILLE_APM_CONFIG] = "none"';
  else if (!existsSync(iniPath)) noIniReason = `no INI file at ${iniPath}`;
  else {
    iniFile = iniPath;
    try {
      for (const e of parseIni(readFileSync(iniPath, 'utf8'))) ini.set(e.key.toLowerCase(), unquote(iniWordValue(e)));
    } catch {
      noIniReason = `${iniPath} cannot be read`;
      iniFile = null;
    }
  }
  const settings = {} as Record<Key, ClientSetting>;
  for (const key of Object.keys(CLIENT_DEFAULTS) as Key[]) {
    const env = fromEnv(envName(key));
    const file = ini.get(key);
    settings[key] = env !== null ? { value: env, from: `env[${envName(key)}]` } : file !== undefined && iniFile ? { value: file, from: iniFile } : { value: CLIENT_DEFAULTS[key], from: 'default' };
  }
  const envCount = [...pool.env.keys()].filter((k) => k.startsWith('BITVILLE_APM_')).length;
  return { settings, enabled: clientBoolean(settings.profiling_enabled.value), iniFile, noIniReason, envCount };
}
