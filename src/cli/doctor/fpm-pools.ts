import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { iniWordValue, parseIni, type IniEntry } from './ini-file.js';

/** One `[pool]` section of a PHP-FPM pool file, as far as the doctor needs it. */
export interface FpmPool {
  name: string;
  file: string;
  /** `user = …`; null when the pool does not set one. */
  user: string | null;
  /** `clear_env`, yes unless set otherwise (FPM's default). */
  clearEnv: boolean;
  /** `env[NAME] = value` lines by NAME. */
  env: ReadonlyMap<string, IniEntry>;
}

/** Debian's layout: /etc/php/<version>/fpm/pool.d for every installed PHP version. */
export function defaultPoolDirs(etcPhp = '/etc/php'): string[] {
  let versions: string[];
  try {
    versions = readdirSync(etcPhp).sort();
  } catch {
    return [];
  }
  return versions.map((v) => join(etcPhp, v, 'fpm', 'pool.d')).filter((d) => existsSync(d));
}

/** The `*.conf` files FPM's default `include=` loads from these folders, in its order. */
export function poolFiles(dirs: readonly string[]): string[] {
  const files: string[] = [];
  for (const dir of dirs) {
    try {
      for (const f of readdirSync(dir).sort()) if (f.endsWith('.conf') && statSync(join(dir, f)).isFile()) files.push(join(dir, f));
    } catch {
      // a folder given but missing is reported by the caller (no pools found)
    }
  }
  return files;
}

/** FPM's boolean words after its INI parser ran. */
function fpmBoolean(e: IniEntry): boolean {
  return ['1', 'yes', 'on', 'true'].includes(iniWordValue(e).toLowerCase());
}

export function readPools(files: readonly string[]): FpmPool[] {
  const pools = new Map<string, { name: string; file: string; user: string | null; clearEnv: boolean; env: Map<string, IniEntry> }>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const e of parseIni(text)) {
      if (!e.section || e.section === 'global') continue;
      const id = `${file}\0${e.section}`;
      let pool = pools.get(id);
      if (!pool) {
        pool = { name: e.section, file, user: null, clearEnv: true, env: new Map() };
        pools.set(id, pool);
      }
      const env = /^env\[([^\]]+)\]$/.exec(e.key);
      if (env?.[1]) pool.env.set(env[1], e);
      else if (e.key === 'user') pool.user = iniWordValue(e) || null;
      else if (e.key === 'clear_env') pool.clearEnv = fpmBoolean(e);
    }
  }
  return [...pools.values()];
}
