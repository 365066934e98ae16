import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { sendAcked, writeInboxFile } from '../../src/shared/client/daemon-client.js';
import { ids, lineFor } from '../helpers/profiles.js';
import { launchDaemon, spawnDaemon, tempDir } from '../helpers/daemon-process.js';
import { sendOnce } from '../helpers/socket-client.js';
import { spoolIds } from '../helpers/spool-files.js';
import { waitFor } from '../helpers/wait-for.js';

/** What the PHP client does: the socket with an acknowledgement within the budget, else an inbox file. */
async function clientSend(socketPath: string, inbox: string, id: string, budgetMs = 50): Promise<'acked' | 'inbox'> {
  const line = lineFor(id);
  const r = await sendAcked(socketPath, [line], budgetMs);
  if (r.kind === 'acked') return 'acked';
  await writeInboxFile(inbox, line.trimEnd(), id);
  return 'inbox';
}

function inboxIds(dataDir: string): string[] {
  const dir = join(dataDir, 'inbox');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.startsWith('profile_'))
    .map((n) => (JSON.parse(readFileSync(join(dir, n), 'utf8')) as { correlation_id: string }).correlation_id);
}

test('an acknowledged send is answered with what became of each message; write-and-close senders work unchanged', async () => {
  const daemon = await spawnDaemon(tempDir());
  const r = await sendAcked(daemon.socketPath, [lineFor('a-1'), lineFor('a-2'), '{"oops', '['.repeat(100) + ']'.repeat(100)], 2_000);
  assert.deepEqual(r, { kind: 'acked', counts: { accepted: 2, rejected: 2, dropped: 0 } });
  await sendOnce(daemon.socketPath, lineFor('legacy-1'));
  await waitFor(async () => (await daemon.accepted()) === 3, { what: 'the legacy message accepted too' });
  // A connection may ask more than once; each answer covers what was sent since the last one.
  const answers = await new Promise<string[]>((resolve, reject) => {
    const s = createConnection(daemon.socketPath, () => s.write(`${lineFor('b-1')}["bitville_ack",1]\n${lineFor('b-2')}${lineFor('b-3')}["bitville_ack","two"]\n`));
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => {
      text += c;
      if (text.split('\n').length > 2) {
        s.end();
        resolve(text.trim().split('\n'));
      }
    });
    s.on('error', reject);
  });
  assert.deepEqual(answers.map((a) => JSON.parse(a) as unknown), [
    { ack: 1, accepted: 1, rejected: 0, dropped: 0 },
    { ack: 'two', accepted: 2, rejected: 0, dropped: 0 },
  ]);
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  assert.deepEqual(spoolIds(daemon.dataDir), ['a-1', 'a-2', 'legacy-1', 'b-1', 'b-2', 'b-3']);
});

test('stop under a continuous sender loses nothing: every acknowledged and every written profile is spooled, the rest is in the inbox', async () => {
  const dir = tempDir();
  const daemon = await spawnDaemon(dir);
  const inbox = join(daemon.dataDir, 'inbox');
  const acked: string[] = [];
  const written: string[] = []; // write-and-close senders: connect and write succeeded
  const all = ids(6_000, 'stop');
  let next = 0;
  let stopAt = Number.POSITIVE_INFINITY;
  const sender = async (legacy: boolean): Promise<void> => {
    while (next < all.length && next < stopAt + 600) {
      const id = all[next++] as string;
      if (legacy) {
        const ok = await new Promise<boolean>((resolve) => {
          let wrote = false;
          const s = createConnection(daemon.socketPath, () => s.end(lineFor(id)));
          s.on('finish', () => (wrote = true)); // the kernel took every byte: a PHP fwrite that succeeded
          s.on('error', () => undefined);
          s.on('close', () => resolve(wrote)); // paced by the daemon, like a pool of PHP workers
          s.resume();
        });
        if (ok) written.push(id);
        else await writeInboxFile(inbox, lineFor(id).trimEnd(), id);
      } else if ((await clientSend(daemon.socketPath, inbox, id)) === 'acked') acked.push(id);
    }
  };
  const senders = [sender(true), sender(true), sender(false), sender(false)];
  await waitFor(() => next > 1_500, { what: 'sending under way' });
  stopAt = next;
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  await Promise.all(senders);
  const spooled = new Set(spoolIds(daemon.dataDir));
  const inInbox = new Set(inboxIds(daemon.dataDir));
  assert.ok(acked.length > 300 && written.length > 300, `both kinds of sender worked before the stop (${acked.length} acked, ${written.length} written)`);
  assert.deepEqual(acked.filter((id) => !spooled.has(id)), [], 'every acknowledged profile is spooled');
  assert.deepEqual(written.filter((id) => !spooled.has(id) && !inInbox.has(id)), [], 'every profile whose write succeeded is spooled');
  const sent = all.slice(0, Math.min(next, all.length));
  assert.deepEqual(sent.filter((id) => !spooled.has(id) && !inInbox.has(id)), [], 'nothing sent is missing from spool and inbox together');
  assert.ok(inInbox.size > 0, 'clients after the stop found no socket and used their inbox');

  const again = await spawnDaemon(dir);
  await waitFor(async () => (await again.health()).body.stats.ingest.accepted_by_source.inbox === inInbox.size, { what: 'the inbox swept' });
  again.kill('SIGTERM');
  assert.equal(await again.exited, 0);
  assert.equal(new Set(spoolIds(daemon.dataDir)).size >= sent.length, true);
});

test('durable mode: every acknowledged profile survives a SIGKILL of supervisor and worker mid-burst', async () => {
  const dir = tempDir();
  const config = { buffer: { mode: 'durable' } };
  const daemon = await spawnDaemon(dir, config);
  const inbox = join(daemon.dataDir, 'inbox');
  const acked: string[] = [];
  let n = 0;
  let killed = false;
  const sender = async (k: number): Promise<void> => {
    while (!killed) {
      const id = `kill-${k}-${n++}`;
      if ((await clientSend(daemon.socketPath, inbox, id, 200)) === 'acked') acked.push(id);
    }
  };
  const senders = Array.from({ length: 8 }, (_, k) => sender(k));
  await waitFor(() => acked.length >= 1_000, { what: '1,000 acknowledged sends', timeoutMs: 30_000 });
  daemon.kill('SIGKILL');
  killed = true;
  await daemon.exited;
  await Promise.all(senders);
  const ackedAtKill = [...acked];

  const again = await spawnDaemon(dir, config);
  again.kill('SIGTERM');
  assert.equal(await again.exited, 0);
  const spooled = new Set([...spoolIds(daemon.dataDir), ...inboxIds(daemon.dataDir)]);
  assert.deepEqual(ackedAtKill.filter((id) => !spooled.has(id)), [], 'no acknowledged profile is lost');
});

/** The value of one unlabelled counter in the daemon's /metrics text; NaN when it is missing. */
async function counter(daemon: Awaited<ReturnType<typeof spawnDaemon>>, name: string): Promise<number> {
  const line = (await daemon.metricsText()).split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

test('durable mode: write-and-close messages ride the fsyncMs timer; an acknowledged send is answered only after an fdatasync', async () => {
  const dir = tempDir();
  const config = { buffer: { mode: 'durable', fsyncMs: 600_000 } }; // the timer never fires during the test
  const daemon = await spawnDaemon(dir, config);
  const written = ids(30, 'wc');
  for (const id of written) await sendOnce(daemon.socketPath, lineFor(id));
  await waitFor(async () => (await daemon.accepted()) === written.length, { what: 'the write-and-close messages accepted' });
  assert.ok((await counter(daemon, 'bitville_daemon_spool_segments_written_total')) >= 1, 'appended to the open segment');
  assert.equal(await counter(daemon, 'bitville_daemon_spool_fsyncs_total'), 0, 'no fdatasync for senders that do not wait for one');

  const r = await sendAcked(daemon.socketPath, [lineFor('acked-1')], 2_000);
  assert.deepEqual(r, { kind: 'acked', counts: { accepted: 1, rejected: 0, dropped: 0 } });
  assert.equal(await counter(daemon, 'bitville_daemon_spool_fsyncs_total'), 1, 'one fdatasync, before the answer, covering all 31');

  // Appended is past the process: a SIGKILL loses none of them (a power cut could lose the 30 before the sync).
  daemon.kill('SIGKILL');
  await daemon.exited;
  const again = await spawnDaemon(dir, config);
  again.kill('SIGTERM');
  assert.equal(await again.exited, 0);
  assert.deepEqual(spoolIds(daemon.dataDir).sort(), [...written, 'acked-1'].sort());
});

test('a client that connects in the first millisecond after the socket file appears is accepted, not refused', async () => {
  const dir = tempDir();
  const launched = launchDaemon(dir);
  const failures: string[] = [];
  await waitFor(() => existsSync(launched.socketPath), { intervalMs: 1, timeoutMs: 15_000, what: 'the socket file' });
  const results = await Promise.all(
    ids(200, 'early').map(
      (id) =>
        new Promise<void>((resolve) => {
          const s = createConnection(launched.socketPath, () => s.end(lineFor(id)));
          s.on('error', (err: NodeJS.ErrnoException) => {
            failures.push(err.code ?? err.message);
            resolve();
          });
          s.on('close', () => resolve());
          s.resume();
        }),
    ),
  );
  assert.equal(results.length, 200);
  assert.deepEqual(failures, [], 'no connect was refused');
  const daemon = await launched.ready();
  await waitFor(async () => (await daemon.accepted()) === 200, { what: 'all 200 accepted' });
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});
