/**
 * Issue 9, findings 1 and 2, with the PHP client's own send code (Transport::send, acknowledged
 * send within the 50 ms budget, inbox fallback): a daemon stop or a SIGKILL of the whole daemon
 * in durable mode, while PHP keeps sending. Every profile PHP counted as sent over the socket
 * must be in the spool; every other one in the inbox.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { join } from 'node:path';
import { spawnDaemon, tempDir, type DaemonHandle } from '../helpers/daemon-process.js';
import { spoolIds } from '../helpers/spool-files.js';
import { waitFor } from '../helpers/wait-for.js';
import { phpMissing, REPO } from './php-harness.js';

const skip = phpMissing();

interface Loop {
  outcomes: Map<string, string>;
  done: Promise<void>;
}

function phpSendLoop(daemon: DaemonHandle, prefix: string, count: number, pauseUs: number): Loop {
  const outcomes = new Map<string, string>();
  const proc = spawn('php', [join(REPO, 'test', 'php-app', 'send-loop.php'), prefix, String(count), String(pauseUs)], {
    env: {
      PATH: process.env.PATH,
      BITVILLE_APM_CONFIG: join(daemon.dir, 'no-such.ini'),
      BITVILLE_APM_PROFILING_ENABLED: '0', // the sender script itself is not a request to report
      BITVILLE_APM_DAEMON_SOCKET_PATH: daemon.socketPath,
      BITVILLE_APM_INBOX_PATH: join(daemon.dataDir, 'inbox'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let rest = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    rest += chunk;
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) {
      const [id, outcome] = l.split(' ');
      if (id && outcome) outcomes.set(id, outcome);
    }
  });
  const done = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  return { outcomes, done };
}

function inboxIds(dataDir: string): Set<string> {
  const dir = join(dataDir, 'inbox');
  if (!existsSync(dir)) return new Set();
  return new Set(
    readdirSync(dir)
      .filter((n) => n.startsWith('profile_'))
      .map((n) => (JSON.parse(readFileSync(join(dir, n), 'utf8')) as { correlation_id: string }).correlation_id),
  );
}

function byOutcome(loops: Loop[], outcome: string): string[] {
  return loops.flatMap((l) => [...l.outcomes].filter(([, o]) => o === outcome).map(([id]) => id));
}

test('PHP senders across a daemon stop: every profile sent over the socket is spooled, every other one is in the inbox', { skip }, async () => {
  const daemon = await spawnDaemon(tempDir('bitville-php-stop-'));
  const loops = [0, 1, 2].map((k) => phpSendLoop(daemon, `stop${k}`, 1_500, 1_000));
  await waitFor(() => loops.every((l) => l.outcomes.size > 300), { what: '300 sends from each PHP sender', timeoutMs: 30_000 });
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  await Promise.all(loops.map((l) => l.done));
  const spooled = new Set(spoolIds(daemon.dataDir));
  const inbox = inboxIds(daemon.dataDir);
  const viaSocket = byOutcome(loops, 'socket');
  assert.ok(viaSocket.length >= 900, `${viaSocket.length} sent over the socket`);
  assert.deepEqual(viaSocket.filter((id) => !spooled.has(id)), [], 'every acknowledged profile is spooled');
  // an inbox file written before the stop may already have been swept into the spool
  assert.deepEqual(byOutcome(loops, 'inbox').filter((id) => !inbox.has(id) && !spooled.has(id)), [], 'every inbox outcome is in the inbox or the spool');
  assert.deepEqual(byOutcome(loops, 'dropped'), [], 'nothing given up');
  assert.ok(inbox.size > 0, 'PHP used the inbox while the daemon was gone');
});

test('PHP senders across a SIGKILL of the durable-mode daemon: every profile acknowledged over the socket survives', { skip }, async () => {
  const dir = tempDir('bitville-php-kill-');
  const daemon = await spawnDaemon(dir, { buffer: { mode: 'durable' } });
  const loops = [0, 1, 2].map((k) => phpSendLoop(daemon, `kill${k}`, 1_200, 1_000));
  await waitFor(() => loops.every((l) => l.outcomes.size > 300), { what: '300 sends from each PHP sender', timeoutMs: 30_000 });
  daemon.kill('SIGKILL');
  await daemon.exited;
  await Promise.all(loops.map((l) => l.done));
  const again = await spawnDaemon(dir, { buffer: { mode: 'durable' } });
  again.kill('SIGTERM');
  assert.equal(await again.exited, 0);
  const kept = new Set([...spoolIds(daemon.dataDir), ...inboxIds(daemon.dataDir)]);
  const viaSocket = byOutcome(loops, 'socket');
  assert.ok(viaSocket.length >= 900, `${viaSocket.length} sent over the socket`);
  assert.deepEqual(viaSocket.filter((id) => !kept.has(id)), [], 'no acknowledged profile is lost');
  assert.deepEqual(byOutcome(loops, 'inbox').filter((id) => !kept.has(id)), [], 'no inbox profile is lost');
});
