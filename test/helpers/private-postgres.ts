import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const BIN = process.env.BITVILLE_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  dir: string;
  /** The Unix socket directory (the server listens on nothing else). */
  socketDir: string;
  logDir: string;
  /** libpq URL of database `db` as superuser root, over the socket. */
  url(db?: string): string;
  client(db?: string, applicationName?: string): Promise<pg.Client>;
  sql(text: string, db?: string): Promise<pg.QueryResult>;
  stop(): void;
  start(): void;
  restart(): void;
  destroy(): void;
}

/** Why the private-server tests cannot run here, or false (initdb and pg_stat_statements present). */
export function postgresMissing(): string | false {
  if (!existsSync(join(BIN, 'initdb'))) return `no PostgreSQL server binaries in ${BIN} (apt-get install postgresql)`;
  return false;
}

// Tests call destroy() in their after() hooks; this catches the rest (a crash, a benchmark's exit).
// No node:test import here, so benchmarks can use this helper without starting a test runner.
const alive = new Set<PrivatePostgres>();
process.on('exit', () => {
  for (const p of alive) p.destroy();
});

/**
 * A PostgreSQL server of our own for one test file: initdb into a temp dir, pg_stat_statements
 * preloaded, logging_collector writing stderr, csvlog and jsonlog files into `<dir>/log`,
 * listening only on a Unix socket in the temp dir (never on the machine's port 5432). As root,
 * the server runs as the `postgres` OS user (initdb refuses root); the database superuser is root.
 */
export function startPrivatePostgres(settings: Record<string, string | number> = {}): PrivatePostgres {
  const dir = mkdtempSync(join(tmpdir(), 'bitville-pg-'));
  const data = join(dir, 'data');
  const logDir = join(dir, 'log');
  const asRoot = userInfo().uid === 0;
  let uid = userInfo().uid;
  let gid = userInfo().gid;
  if (asRoot) {
    uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o755);
  const run = (cmd: string, args: string[]): SpawnSyncReturns<string> => {
    const r = spawnSync(join(BIN, cmd), args, { encoding: 'utf8', uid, gid, cwd: dir, env: { PATH: process.env.PATH, LANG: 'C', LC_ALL: 'C' }, timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
    return r;
  };
  run('initdb', ['-D', data, '-U', 'root', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  mkdirSync(logDir);
  if (asRoot) chownSync(logDir, uid, gid);
  const conf: Record<string, string | number> = {
    listen_addresses: "''",
    unix_socket_directories: `'${dir}'`,
    shared_preload_libraries: "'pg_stat_statements'",
    'pg_stat_statements.track': "'all'",
    logging_collector: 'on',
    log_destination: "'stderr,csvlog,jsonlog'",
    log_directory: `'${logDir}'`,
    log_filename: "'postgresql-%Y%m%d-%H%M%S.log'",
    log_rotation_age: 0,
    log_rotation_size: 0,
    log_line_prefix: "'%m [%p] app=%a '",
    log_lock_waits: 'on',
    deadlock_timeout: "'300ms'",
    max_connections: 160,
    shared_buffers: "'32MB'",
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    ...settings,
  };
  writeFileSync(join(data, 'postgresql.auto.conf'), Object.entries(conf).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n');
  if (asRoot) chownSync(join(data, 'postgresql.auto.conf'), uid, gid);
  const pgctl = (action: string, extra: string[] = []) => run('pg_ctl', [action, '-D', data, '-w', '-t', '60', '-l', join(dir, 'pg_ctl.log'), ...extra]);
  let running = false;
  const handle: PrivatePostgres = {
    dir,
    socketDir: dir,
    logDir,
    url: (db = 'postgres') => `postgres://root@/${db}?host=${encodeURIComponent(dir)}`,
    async client(db = 'postgres', applicationName = 'bitville-test') {
      const c = new pg.Client({ host: dir, user: 'root', database: db, application_name: applicationName });
      await c.connect();
      return c;
    },
    async sql(text, db = 'postgres') {
      const c = await handle.client(db);
      try {
        return await c.query(text);
      } finally {
        await c.end();
      }
    },
    start() {
      pgctl('start');
      running = true;
    },
    stop() {
      if (!running) return;
      pgctl('stop', ['-m', 'fast']);
      running = false;
    },
    restart() {
      pgctl('restart', ['-m', 'fast']);
      running = true;
    },
    destroy() {
      if (!alive.has(handle)) return;
      alive.delete(handle);
      if (running) spawnSync(join(BIN, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w'], { uid, gid, cwd: dir, timeout: 30_000 });
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  alive.add(handle);
  handle.start();
  return handle;
}

/** The server's log files of one format, oldest first. */
export function logFiles(p: PrivatePostgres, ext: '.log' | '.csv' | '.json'): string[] {
  return readdirSync(p.logDir).filter((n) => n.endsWith(ext)).sort().map((n) => join(p.logDir, n));
}
