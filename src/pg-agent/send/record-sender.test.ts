import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createRecordSender } from './record-sender.js';
import { socketTransport } from './transports.js';

async function sink(path: string): Promise<{ lines: string[]; server: Server }> {
  const lines: string[] = [];
  const server = createServer((s) => {
    let buf = '';
    let since = 0;
    s.on('data', (c: Buffer) => {
      buf += c.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const p of parts) {
        const ack = /^\["bitville_ack",(.*)\]$/.exec(p);
        if (!ack) {
          lines.push(p);
          since++;
          continue;
        }
        // answers like the daemon (shared/protocol/control-lines.ts): the records are safe
        s.write(`{"ack":${ack[1]},"accepted":${since},"rejected":0,"dropped":0}\n`);
        since = 0;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { lines, server };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('while the daemon socket is missing, records wait in a bounded buffer (oldest dropped, counted) and arrive in order once it is back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bitville-sender-'));
  const path = join(dir, 'daemon.sock');
  const dropped: number[] = [];
  const sender = createRecordSender({ transport: socketTransport(path, 1000), bufferItems: 50, bufferBytes: 1 << 20, flushIntervalMs: 20, log: pino({ level: 'silent' }), onDropped: (_r, n) => dropped.push(n) });
  sender.start();
  try {
    for (let i = 0; i < 80; i++) sender.enqueue({ n: i });
    await until(() => sender.stats().failures >= 2, 'two failed attempts');
    assert.equal(sender.stats().buffered, 50);
    assert.equal(sender.stats().dropped.buffer_full, 30);
    assert.equal(dropped.reduce((a, b) => a + b, 0), 30);
    const s = await sink(path);
    await until(() => s.lines.length === 50, 'the 50 kept records');
    assert.deepEqual(s.lines.map((l) => (JSON.parse(l) as { n: number }).n), Array.from({ length: 50 }, (_, i) => 30 + i));
    // records count as sent once the daemon's answer arrives, a moment after the lines
    await until(() => sender.stats().sent === 50, 'the acknowledgement of the 50 records');
    assert.equal(sender.stats().buffered, 0);
    sender.enqueue({ n: 80 });
    await until(() => s.lines.length === 51, 'a record after recovery');
    await sender.stop();
    await new Promise<void>((resolve) => s.server.close(() => resolve()));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
