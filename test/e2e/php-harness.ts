/**
 * Shared rig for the PHP client's e2e tests (test/e2e/php-*.test.ts): the test app under
 * `php -S`, a fake daemon socket, and listener reads. Not a test file itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnDaemon, type DaemonHandle } from '../helpers/daemon-process.js';
import { freePort, spawnListener, type ListenerHandle } from '../helpers/listener-process.js';
import { spawnTracked } from '../helpers/tracked-process.js';
import { waitFor } from '../helpers/wait-for.js';
import { skipUnlessRequired } from '../helpers/require-all.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/e2e -> repo
export const APP = join(REPO, 'test', 'php-app', 'index.php');
export const CLIENT_DIR = join(REPO, 'clients', 'php');

/** Why PHP tests are skipped, or false when `php` (with pdo_sqlite) is installed. */
export function phpMissing(): string | false {
  const r = spawnSync('php', ['-r', 'echo extension_loaded("pdo_sqlite") ? "ok" : "no";'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return skipUnlessRequired('php is not installed (.ci/run installs php-cli and php-sqlite3)');
  return r.stdout === 'ok' ? false : skipUnlessRequired('php has no pdo_sqlite (apt-get install php-sqlite3)');
}

/** Why a test needing this PHP extension is skipped (failed under BITVILLE_REQUIRE_ALL=1), or false. */
export function phpExtensionMissing(name: string): string | false {
  return phpHasExtension(name) ? false : skipUnlessRequired(`php has no ${name} extension (.ci/run installs it)`);
}

export function phpHasExtension(name: string): boolean {
  const r = spawnSync('php', ['-r', `echo extension_loaded(${JSON.stringify(name)}) ? "1" : "0";`], { encoding: 'utf8' });
  return r.stdout === '1';
}


export interface PhpApp {
  url: string;
  output(): string;
  get(path: string, init?: RequestInit): Promise<{ status: number; body: string; ms: number }>;
  stop(): Promise<void>;
}

/**
 * `php -S 127.0.0.1:<free port> test/php-app/index.php` with the client's settings in `env`
 * (BITVILLE_APM_* and APP_DB). `phpArgs` go before -S (e.g. `-d opcache.enable_cli=1`); `router` is the script php -S serves.
 */
export async function startPhpApp(dir: string, env: Record<string, string>, phpArgs: string[] = [], router: string = APP): Promise<PhpApp> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, APP_DB: join(dir, 'app.sqlite'), BITVILLE_APM_CONFIG: join(dir, 'no-such.ini'), ...env };
  const workers = childEnv.PHP_CLI_SERVER_WORKERS !== undefined;
  // php -S with PHP_CLI_SERVER_WORKERS forks workers that outlive a killed parent: those run in their own process group.
  const php = spawnTracked('php', [...phpArgs, '-S', `127.0.0.1:${port}`, router], { cwd: REPO, env: childEnv, detached: workers });
  const url = `http://127.0.0.1:${port}`;
  const app: PhpApp = {
    url,
    output: php.output,
    async get(path, init) {
      const started = performance.now();
      const res = await fetch(url + path, init);
      const body = await res.text();
      return { status: res.status, body, ms: performance.now() - started };
    },
    async stop() {
      php.kill('SIGTERM');
      await php.exited;
    },
  };
  await waitFor(async () => (await fetch(`${url}/nothing-here`)).status === 404, { timeoutMs: 10_000, what: `php -S on ${url}:\n${php.output()}` });
  return app;
}

export interface FakeDaemon {
  path: string;
  /** Parsed messages received so far (complete lines only). */
  messages(): Record<string, unknown>[];
  stop(): Promise<void>;
}

/**
 * A Unix socket server standing in for the daemon: it reads profiles and answers acknowledgement
 * requests like the daemon does. `read: false` accepts connections and never reads from them, so
 * a big enough write fills the socket buffer and blocks (and no acknowledgement ever comes).
 */
export async function startFakeDaemon(path: string, { read = true }: { read?: boolean } = {}): Promise<FakeDaemon> {
  const messages: Record<string, unknown>[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer({ pauseOnConnect: !read }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    if (!read) return; // paused: the kernel buffer fills, then the client's writes would block
    let buf = '';
    let since = 0; // messages since the last acknowledgement request
    s.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const value = JSON.parse(buf.slice(0, nl)) as unknown;
        buf = buf.slice(nl + 1);
        if (Array.isArray(value) && value[0] === 'bitville_ack') {
          // answers like the real daemon (src/shared/protocol/control-lines.ts), so the client is done
          s.write(`{"ack":${JSON.stringify(value[1])},"accepted":${since},"rejected":0,"dropped":0}\n`);
          since = 0;
          continue;
        }
        messages.push(value as Record<string, unknown>);
        since++;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    messages: () => messages,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Parsed `profile_*.json` files in an inbox folder. */
export function inboxProfiles(dir: string): Record<string, unknown>[] {
  mkdirSync(dir, { recursive: true });
  return readdirSync(dir)
    .filter((f) => /^profile_.*\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
}

export interface ListedRequest {
  correlation_id: string;
  url: string;
  method: string;
  status: number | null;
  duration_ms: number;
  sql_count: number;
  sql_ms: number;
}

/** Read API of a listener with token `token`. */
export function listenerApi(baseUrl: string, token: string) {
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(baseUrl + path, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    get,
    /** Every stored request of `project` (optionally of one url), all pages of 1000 read. */
    requests: async (project: string, url = '') => {
      const items: ListedRequest[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: ListedRequest[]; next_cursor: string | null } = await get(
          `/api/v1/requests?project=${project}&limit=1000${url ? `&url=${encodeURIComponent(url)}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        items.push(...page.items);
        cursor = page.next_cursor;
      } while (cursor);
      return items;
    },
    detail: async (project: string, id: string) => (await get<{ payload: Record<string, unknown> }>(`/api/v1/requests/${id}?project=${project}`)).payload,
  };
}

/** Listener (token `token`) and a daemon forwarding to it every 100 ms, under `dir`. */
export async function startStack(dir: string, token: string): Promise<{ listener: ListenerHandle; daemon: DaemonHandle; stop(): Promise<void> }> {
  mkdirSync(join(dir, 'l'), { recursive: true });
  const listener = await spawnListener(join(dir, 'l'), { tokens: { [token]: ['*'] } });
  const daemon = await spawnDaemon(dir, { forward: { url: listener.url, token, flushIntervalMs: 100 } });
  return {
    listener,
    daemon,
    async stop() {
      daemon.kill('SIGTERM');
      await daemon.exited;
      listener.proc.kill('SIGTERM');
      await listener.exited;
    },
  };
}
