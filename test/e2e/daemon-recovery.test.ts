import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ids, lineFor } from '../helpers/profiles.js';
import { spawnDaemon, tempDir } from '../helpers/daemon-process.js';
import { spoolFiles, spoolIds } from '../helpers/spool-files.js';

test('starts over a torn segment, a garbage segment and a leftover temp file: salvages, quarantines and counts', async () => {
  const dir = tempDir();
  const spool = join(dir, 'data', 'buffer');
  mkdirSync(spool, { recursive: true });
  const good = ids(5, 'good');
  writeFileSync(join(spool, '1700000000000-000000-1.ndjson'), good.map((id) => lineFor(id)).join(''));
  const torn = ids(3, 'torn');
  const tornText = torn.map((id) => lineFor(id)).join('') + lineFor('torn-cut').slice(0, 40); // crash mid-line
  writeFileSync(join(spool, '1700000000001-000005-1.ndjson'), tornText);
  writeFileSync(join(spool, '1700000000002-000008-1.ndjson'), Buffer.concat([randomBytes(3000), Buffer.from('\n' + lineFor('in-garbage')), randomBytes(500)]));
  writeFileSync(join(spool, '1700000000003-000010-1.ndjson.tmp'), lineFor('never-renamed'));

  const daemon = await spawnDaemon(dir);
  const { status, body } = await daemon.health();
  assert.equal(status, 200);
  assert.equal(body.status, 'ok');
  assert.equal(body.stats.ingest.recovered_from_spool, 5 + 3 + 1, 'good lines, torn segment minus its cut line, the one good line in garbage');
  assert.ok((body.stats.ingest.quarantined.segment ?? 0) >= 1, 'the garbage segment is counted as quarantined');
  daemon.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);

  assert.deepEqual(spoolIds(daemon.dataDir), [...good, ...torn, 'in-garbage'], 'FIFO order kept across salvage');
  assert.ok(!spoolFiles(daemon.dataDir).some((n) => n.endsWith('.tmp')), 'temp file removed');
  const quarantined = readdirSync(join(daemon.dataDir, 'quarantine')).filter((n) => n.startsWith('segment-'));
  assert.ok(quarantined.some((n) => n.includes('1700000000002-000008-1')), `garbage original kept for inspection: ${quarantined.join(', ')}`);
});

test('a stale socket file from a crashed run is replaced, but a live daemon on the same path is refused', async () => {
  const dir = tempDir();
  const first = await spawnDaemon(dir);
  const other = tempDir();
  // A second daemon with its own data dir but the same socket path must not steal the socket.
  const second = await spawnDaemon(other, { socket: first.socketPath }).then(
    () => assert.fail('second daemon started'),
    (err: Error) => err.message,
  );
  assert.match(second, /already listening on/);

  first.kill('SIGKILL'); // leaves the socket file behind
  await first.exited;
  const third = await spawnDaemon(dir);
  assert.equal((await third.health()).body.status, 'ok');
  third.kill('SIGTERM');
  assert.equal(await third.exited, 0);
});

test('two daemons cannot share one spool', async () => {
  const dir = tempDir();
  const first = await spawnDaemon(dir);
  const message = await spawnDaemon(tempDir(), { dataDir: first.dataDir }).then(
    () => assert.fail('second daemon started'),
    (err: Error) => err.message,
  );
  assert.match(message, /holds .*daemon\.lock/);
  first.kill('SIGTERM');
  assert.equal(await first.exited, 0);
});
