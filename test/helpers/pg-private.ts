import { after } from 'node:test';
import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = process.env.BITVILLE_TEST_PGBIN ?? '/usr/lib/postgresql/15/bin';

/**
 * A private PostgreSQL for tests that must stop the server or need password authentication:
 * initdb in a temp dir, listening only on a Unix socket in that dir, stopped (and deleted) when
 * the test file ends. PostgreSQL refuses to run as root, so as root it runs as user postgres.
 */
export interface PrivatePg {
  /** Directory of the Unix socket (for ?host=). */
  socketDir: string;
  port: number;
  user: string;
  password: string;
  /** postgres://user:password@/db?host=socketDir&port=… */
  url(database: string, password?: string): string;
  start(): Promise<void>;
  /** Immediate shutdown: connections drop as in a crash. */
  stop(): Promise<void>;
  psql(sql: string, database?: string): Promise<string>;
}

const instances = new Set<{ stop(): Promise<void>; dir: string }>();
after(async () => {
  for (const i of instances) {
    await i.stop().catch(() => undefined);
    rmSync(i.dir, { recursive: true, force: true });
  }
});

export async function startPrivatePg(): Promise<PrivatePg> {
  const dir = mkdtempSync(join(tmpdir(), 'bitville-pg-'));
  const data = join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  const owner = asRoot ? { uid: Number((await run('id', ['-u', 'postgres'])).stdout), gid: Number((await run('id', ['-g', 'postgres'])).stdout) } : null;
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const as = (cmd: string, args: string[]): Promise<{ stdout: string }> => (asRoot ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args));
  const user = 'bvtest';
  const password = 'secret-pw';
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, password);
  if (owner) chownSync(pwfile, owner.uid, owner.gid);
  await as(join(BIN, 'initdb'), ['-D', data, '-U', user, '--pwfile', pwfile, '-A', 'scram-sha-256', '-E', 'UTF8', '--no-sync']);
  const port = 20_000 + Math.floor(Math.random() * 20_000); // only names the socket file; no TCP listener
  const opts = `-k ${dir} -p ${port} -c listen_addresses='' -c fsync=off -c max_connections=60 -c shared_buffers=32MB`;
  const pg: PrivatePg = {
    socketDir: dir,
    port,
    user,
    password,
    url: (database, pw = password) => `postgres://${user}:${pw}@/${database}?host=${dir}&port=${port}`,
    async start() {
      await as(join(BIN, 'pg_ctl'), ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '30', 'start']);
    },
    async stop() {
      await as(join(BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    async psql(sql, database = 'postgres') {
      const { stdout } = await run(join(BIN, 'psql'), ['-h', dir, '-p', String(port), '-U', user, '-d', database, '-Atqc', sql], { env: { ...process.env, PGPASSWORD: password } });
      return stdout.trim();
    },
  };
  instances.add({ stop: () => pg.stop(), dir });
  await pg.start();
  return pg;
}
