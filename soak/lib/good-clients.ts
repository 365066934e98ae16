import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sendAcked, writeInboxFile } from '../../src/shared/client/daemon-client.js';
import type { Ledger, Outcome } from './ledger.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url)); // dist/soak/lib -> repo

export interface ClientTargets {
  socketPath: string;
  inboxDir: string;
  /** The PHP client's budget for connect + write + acknowledgement. */
  budgetMs: number;
}

/** A PHP-shaped profile, ~3 KB, with a unique id. */
export function soakProfile(id: string): string {
  return JSON.stringify({
    correlation_id: id,
    project: 'soak',
    timestamp: Date.now() / 1000,
    elapsed_ms: 512 + (id.length % 300),
    request: { method: 'GET', uri: `/soak/${id}`, headers: { Host: 'web-01' } },
    timing: { duration_ms: 612.5 },
    sql: { queries: [{ query: 'SELECT * FROM orders WHERE id = 42', duration_ms: 3.5 }], total_queries: 1 },
    server: { hostname: 'web-01', php_version: '8.2', sapi: 'fpm-fcgi' },
    custom: { pad: 'x'.repeat(2_500) },
  });
}

/** The PHP client's algorithm in Node: acknowledged send within the budget, else the inbox file. */
export async function sendLikePhp(t: ClientTargets, id: string): Promise<Outcome> {
  const line = soakProfile(id);
  const r = await sendAcked(t.socketPath, [line], t.budgetMs);
  if (r.kind === 'acked') return r.counts.accepted === 1 ? 'acked' : r.counts.dropped === 1 ? 'acked_dropped' : 'acked_rejected';
  try {
    await writeInboxFile(t.inboxDir, line, id);
    return 'inbox';
  } catch {
    return 'client_dropped';
  }
}

/** `senders` loops, each sending one profile every `pauseMs`, until stop(). */
export function startGoodClients(t: ClientTargets, ledger: Ledger, senders: number, pauseMs: number): { stop(): Promise<void> } {
  let stopped = false;
  let n = 0;
  const loops = Array.from({ length: senders }, async (_, k) => {
    while (!stopped) {
      const id = `node-${k}-${n++}`;
      ledger.record(id, await sendLikePhp(t, id));
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/**
 * The real PHP client's send path (Transport::send via test/php-app/send-loop.php), in batches of
 * `perRun` profiles, one run after another until stop(). Its outcomes go into the ledger.
 */
export function startPhpClient(t: ClientTargets, ledger: Ledger, perRun: number): { stop(): Promise<void> } {
  let stopped = false;
  let run = 0;
  const map: Record<string, Outcome> = { socket: 'acked', socket_dropped: 'acked_dropped', socket_rejected: 'acked_rejected', inbox: 'inbox', dropped: 'client_dropped' };
  const once = (prefix: string): Promise<void> =>
    new Promise((resolve) => {
      const p = spawn('php', [join(REPO, 'test', 'php-app', 'send-loop.php'), prefix, String(perRun), '2000'], {
        env: {
          PATH: process.env.PATH,
          BITVILLE_APM_CONFIG: '/nonexistent/profiling.ini',
          BITVILLE_APM_PROFILING_ENABLED: '0', // the sender script itself is not a request to report
          BITVILLE_APM_DAEMON_SOCKET_PATH: t.socketPath,
          BITVILLE_APM_INBOX_PATH: t.inboxDir,
          BITVILLE_APM_LISTENER_TIMEOUT_MS: String(t.budgetMs),
        },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let rest = '';
      p.stdout.setEncoding('utf8');
      p.stdout.on('data', (c: string) => {
        rest += c;
        const lines = rest.split('\n');
        rest = lines.pop() ?? '';
        for (const l of lines) {
          const [id, outcome] = l.split(' ');
          const mapped = outcome ? map[outcome] : undefined;
          if (id && mapped) ledger.record(id, mapped);
        }
      });
      p.on('error', () => resolve());
      p.on('exit', () => resolve());
    });
  const loop = (async () => {
    while (!stopped) await once(`php-${run++}`);
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
