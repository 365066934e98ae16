/**
 * Debian's nginx and php-fpm8.2, started by a test or benchmark on its own temp socket and port
 * with its own config files (never the system's services): FPM workers run as www-data with
 * `clear_env = yes`, and the client's settings come through `env[...]` lines as in production.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './listener-process.js';
import { spawnTracked, type TrackedProcess } from './tracked-process.js';
import { waitFor } from './wait-for.js';
import { skipUnlessRequired } from './require-all.js';

export const FPM_BIN = '/usr/sbin/php-fpm8.2';
export const NGINX_BIN = '/usr/sbin/nginx';
export const REPO = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/helpers -> repo
export const TEST_APP = join(REPO, 'test', 'php-app', 'index.php');
export const WWW_UID = 33; // www-data on Debian
export const WWW_GID = 33;

/** Why nginx + PHP-FPM tests cannot run here, or false. */
export function fpmMissing(): string | false {
  if (!existsSync(FPM_BIN)) return skipUnlessRequired(`${FPM_BIN} is missing (apt-get install php8.2-fpm; .ci/run installs it)`);
  if (!existsSync(NGINX_BIN)) return skipUnlessRequired(`${NGINX_BIN} is missing (apt-get install nginx; .ci/run installs it)`);
  if (process.getuid?.() !== 0) return skipUnlessRequired('FPM workers run as www-data, so the master must start as root');
  return false;
}


export interface FpmOptions {
  /** `env[NAME] = value` lines, written exactly as given (quote values yourself, as a pool file would). */
  env?: Record<string, string>;
  /** Extra pool lines, e.g. `php_admin_value[memory_limit] = 64M`. */
  pool?: string[];
  /** The front controller. Default: test/php-app/index.php. */
  script?: string;
  /** Static workers. Default 2. */
  workers?: number;
}

export interface FpmSite {
  url: string;
  dir: string;
  /** FPM master (its workers are its children) and nginx master, for CPU readings. */
  fpmPid: number;
  nginxPid: number;
  /** FPM's log (master + worker output: warnings from PHP land here). */
  fpmLog(): string;
  phpErrors(): string;
  stop(): Promise<void>;
}

/** Writes the pool file and checks it with `php-fpm -t`: what FPM says about a config, and whether it starts. */
export function writeFpmConfig(dir: string, o: FpmOptions): { file: string; test: { ok: boolean; output: string } } {
  const envLines = Object.entries(o.env ?? {}).map(([k, v]) => `env[${k}] = ${v}`);
  const file = join(dir, 'fpm.conf');
  writeFileSync(
    file,
    [
      '[global]',
      `pid = ${join(dir, 'fpm.pid')}`,
      `error_log = ${join(dir, 'fpm.log')}`,
      'daemonize = no',
      '[app]',
      'user = www-data',
      'group = www-data',
      `listen = ${join(dir, 'fpm.sock')}`,
      'listen.mode = 0666',
      'pm = static',
      `pm.max_children = ${o.workers ?? 2}`,
      'clear_env = yes',
      'catch_workers_output = yes',
      'decorate_workers_output = no',
      `php_admin_value[error_log] = ${join(dir, 'php-errors.log')}`,
      'php_admin_flag[log_errors] = on',
      'php_admin_flag[display_errors] = off',
      ...envLines,
      ...(o.pool ?? []),
      '',
    ].join('\n'),
  );
  const t = spawnSync(FPM_BIN, ['-t', '-y', file], { encoding: 'utf8' });
  return { file, test: { ok: t.status === 0, output: `${t.stdout}${t.stderr}` } };
}

function writeNginxConfig(dir: string, port: number, script: string): string {
  const tmp = join(dir, 'nginx-tmp');
  mkdirSync(tmp, { recursive: true, mode: 0o777 });
  chmodSync(tmp, 0o777);
  const file = join(dir, 'nginx.conf');
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(tmp, t)};`);
  writeFileSync(
    file,
    [
      'daemon off;',
      'user www-data;',
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'nginx-error.log')} warn;`,
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      ...temps,
      '  server {',
      `    listen 127.0.0.1:${port};`,
      '    location / {',
      '      include /etc/nginx/fastcgi_params;',
      `      fastcgi_param SCRIPT_FILENAME ${script};`,
      '      fastcgi_param SCRIPT_NAME /index.php;',
      `      fastcgi_pass unix:${join(dir, 'fpm.sock')};`,
      '    }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  return file;
}

/** Own process group: a SIGKILL in the cleanup takes the workers with the master. */
function start(bin: string, args: string[]): TrackedProcess {
  return spawnTracked(bin, args, { detached: true });
}

/** A directory www-data can enter (mkdtemp makes 0700 ones); `writable` also lets it write there. */
export function openToWww(dir: string, writable = false): void {
  chmodSync(dir, writable ? 0o777 : 0o755);
  if (writable) chownSync(dir, WWW_UID, WWW_GID);
}

/**
 * nginx on a free 127.0.0.1 port in front of php-fpm8.2 on `<dir>/fpm.sock`. `dir` must be
 * enterable by www-data (see openToWww). Ready once a request answers.
 */
export async function startFpmSite(dir: string, o: FpmOptions = {}): Promise<FpmSite> {
  const { file, test } = writeFpmConfig(dir, o);
  if (!test.ok) throw new Error(`php-fpm refuses the pool config:\n${test.output}`);
  const fpm = start(FPM_BIN, ['--nodaemonize', '--fpm-config', file]);
  const port = await freePort();
  const nginxConf = writeNginxConfig(dir, port, o.script ?? TEST_APP);
  const nginx = start(NGINX_BIN, ['-c', nginxConf, '-p', dir, '-e', join(dir, 'nginx-error.log')]);
  const url = `http://127.0.0.1:${port}`;
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
  const site: FpmSite = {
    url,
    dir,
    fpmPid: fpm.proc.pid ?? -1,
    nginxPid: nginx.proc.pid ?? -1,
    fpmLog: () => read('fpm.log'),
    phpErrors: () => read('php-errors.log'),
    async stop() {
      for (const p of [nginx, fpm]) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGTERM'); // fast shutdown: workers too
      await Promise.all([nginx.exited, fpm.exited]);
    },
  };
  try {
    await waitFor(async () => (await fetch(`${url}/nothing-here`)).status < 500, { timeoutMs: 15_000, what: `nginx + php-fpm on ${url} (502 until FPM listens)` });
  } catch (err) {
    const logs = `fpm: ${fpm.output()}${site.fpmLog()}\nnginx: ${nginx.output()}${read('nginx-error.log')}`;
    await site.stop();
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
  return site;
}
