/**
 * The reference server: a raw Node Unix-socket server that accepts, reads and discards, counting
 * newline-terminated messages so the bench knows when everything arrived. Nothing is parsed or
 * stored: it is the floor any ingest server on this machine stands on. Started by fork();
 * BENCH_SINK_SOCKET names the socket. IPC: sends 'listening'; on {type:'expect', count} sends
 * 'reached' once that many messages were read.
 */
import { unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { exitWithParent } from './child.js';

exitWithParent();

export type SinkParentMessage = { type: 'expect'; count: number };
export type SinkMessage = { type: 'listening' } | { type: 'reached'; messages: number; bytes: number; cpuUs: number };

const path = process.env.BENCH_SINK_SOCKET;
if (!path || !process.send) {
  console.error('sink.js is started by ingest.bench with BENCH_SINK_SOCKET set and an IPC channel');
  process.exit(2);
}

let messages = 0;
let bytes = 0;
let expected = Number.POSITIVE_INFINITY;

function check(): void {
  if (messages >= expected) {
    expected = Number.POSITIVE_INFINITY;
    const cpu = process.cpuUsage();
    process.send?.({ type: 'reached', messages, bytes, cpuUs: cpu.user + cpu.system } satisfies SinkMessage);
  }
}

const server = createServer((socket) => {
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) messages++;
    check();
  });
  socket.on('error', () => undefined);
});
server.listen({ path, backlog: 4096 }, () => process.send?.({ type: 'listening' } satisfies SinkMessage));
process.on('message', (m: SinkParentMessage) => {
  if (m.type === 'expect') {
    expected = m.count;
    check();
  }
});
process.on('SIGTERM', () => {
  server.close();
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
  process.exit(0);
});
