import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startRecordSink } from '../../../test/helpers/pg-agent-process.js';
import { createRecordSender } from './record-sender.js';
import { socketTransport } from './transports.js';

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
    const s = await startRecordSink(path); // answers acknowledgement requests like the daemon
    await until(() => s.records().length === 50, 'the 50 kept records');
    assert.deepEqual(s.records().map((r) => (r as unknown as { n: number }).n), Array.from({ length: 50 }, (_, i) => 30 + i));
    // records count as sent once the daemon's answer arrives, a moment after the lines
    await until(() => sender.stats().sent === 50, 'the acknowledgement of the 50 records');
    assert.equal(sender.stats().buffered, 0);
    sender.enqueue({ n: 80 });
    await until(() => s.records().length === 51, 'a record after recovery');
    await sender.stop();
    await s.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
