import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, lineFor, profile } from '../helpers/profiles.js';
import { spawnDaemon, tempDir } from '../helpers/daemon-process.js';
import { spoolIds, spoolLines } from '../helpers/spool-files.js';
import { waitFor } from '../helpers/wait-for.js';
import { sendOnce } from '../helpers/socket-client.js';

test('UDP datagrams are accepted one JSON object each, including pretty-printed ones', async () => {
  const daemon = await spawnDaemon(tempDir(), { udp: '127.0.0.1:0' });
  assert.ok(daemon.udp);
  const [host, port] = [daemon.udp.slice(0, daemon.udp.lastIndexOf(':')), Number(daemon.udp.slice(daemon.udp.lastIndexOf(':') + 1))];
  const client = createSocket('udp4');
  for (let i = 0; i < 20; i++) client.send(JSON.stringify(profile(`udp-${i}`)), port, host);
  client.send(JSON.stringify(profile('udp-pretty'), null, 2), port, host);
  client.send('not json', port, host);
  await waitFor(async () => (await daemon.health()).body.stats.ingest.accepted_by_source.udp === 21, { what: '21 UDP messages' });
  client.close();
  assert.equal((await daemon.health()).body.stats.ingest.rejected_by_reason.invalid_json, 1);
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  const lines = spoolLines(daemon.dataDir);
  assert.equal(lines.length, 21, 'each datagram is exactly one spool line');
  assert.ok(spoolIds(daemon.dataDir).includes('udp-pretty'));
});

test('inbox files written while the daemon was down are ingested at start and deleted; bad ones are quarantined', async () => {
  const dir = tempDir();
  const inbox = join(dir, 'data', 'inbox');
  mkdirSync(inbox, { recursive: true });
  writeFileSync(join(inbox, 'profile_0001_a.json'), JSON.stringify(fixture('php-agent-original-shape.json'), null, 1));
  writeFileSync(join(inbox, 'profile_0002_b.json'), lineFor('inbox-2'));
  writeFileSync(join(inbox, 'profile_0003_c.json'), '{ truncated');
  writeFileSync(join(inbox, '.profile_0004.tmp'), lineFor('not-finished')); // a PHP temp file: not ours yet

  const daemon = await spawnDaemon(dir, { ingest: { inboxSweepMs: 200 } });
  await waitFor(async () => (await daemon.health()).body.stats.ingest.accepted_by_source.inbox === 2, { what: 'two inbox files accepted' });
  await waitFor(() => !existsSync(join(inbox, 'profile_0002_b.json')), { what: 'accepted file deleted' });
  assert.deepEqual(readdirSync(inbox).sort(), ['.profile_0004.tmp']);
  assert.ok(readdirSync(join(daemon.dataDir, 'quarantine')).some((n) => n.endsWith('profile_0003_c.json')));

  // Files that arrive while it runs are picked up by the periodic sweep.
  writeFileSync(join(inbox, 'profile_0005_d.json'), lineFor('inbox-5'));
  await waitFor(async () => (await daemon.health()).body.stats.ingest.accepted_by_source.inbox === 3, { what: 'swept while running' });
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  assert.deepEqual(spoolIds(daemon.dataDir), ['3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10', 'inbox-2', 'inbox-5']);
});

test('durable mode deletes an inbox file only after its item is on disk', async () => {
  const dir = tempDir();
  const inbox = join(dir, 'data', 'inbox');
  mkdirSync(inbox, { recursive: true });
  for (let i = 0; i < 50; i++) writeFileSync(join(inbox, `profile_${String(i).padStart(4, '0')}.json`), lineFor(`d-${i}`));
  const daemon = await spawnDaemon(dir, { buffer: { mode: 'durable' } });
  await waitFor(() => readdirSync(inbox).length === 0, { what: 'inbox drained' });
  daemon.kill('SIGKILL'); // whatever was deleted from the inbox must be in the spool
  await daemon.exited;
  const again = await spawnDaemon(dir, { buffer: { mode: 'durable' } });
  again.kill('SIGTERM');
  await again.exited;
  assert.equal(new Set(spoolIds(daemon.dataDir)).size, 50);
});

test('the existing PHP agent payload is accepted byte for byte', async () => {
  const daemon = await spawnDaemon(tempDir());
  const raw = JSON.stringify(fixture('php-agent-original-shape.json'));
  await sendOnce(daemon.socketPath, raw); // the old agent writes json and closes; the newline is optional
  await waitFor(async () => (await daemon.accepted()) === 1, { what: 'fixture accepted' });
  daemon.kill('SIGTERM');
  await daemon.exited;
  assert.deepEqual(spoolLines(daemon.dataDir), [raw]);
});
