/**
 * A tiny HTTP server standing in for the listener behind syslog-ng's http() destination and the
 * daemon's forwarder: it answers 200 to every POST and counts the profiles in the bodies (each
 * starts with `{"correlation_id"`), gunzipping them when they say so (its CPU is its own process's,
 * never the measured one's). Started by fork(); IPC: sends {type:'listening', port}; on
 * {type:'expect', count} sends 'reached' once that many profiles were delivered, with the time
 * (Date.now()) the last of them arrived.
 */
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { exitWithParent } from './child.js';

exitWithParent();

export type HttpSinkParentMessage = { type: 'expect'; count: number };
export type HttpSinkMessage = { type: 'listening'; port: number } | { type: 'reached'; messages: number; requests: number; at: number };

if (!process.send) {
  console.error('http-sink.js is started by ingest.bench with an IPC channel');
  process.exit(2);
}

const MARK = Buffer.from('{"correlation_id"');
let messages = 0;
let requests = 0;
let expected = Number.POSITIVE_INFINITY;

function check(): void {
  if (messages >= expected) {
    expected = Number.POSITIVE_INFINITY;
    process.send?.({ type: 'reached', messages, requests, at: Date.now() } satisfies HttpSinkMessage);
  }
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
    for (let at = body.indexOf(MARK); at !== -1; at = body.indexOf(MARK, at + MARK.length)) messages++;
    requests++;
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    check();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.send?.({ type: 'listening', port: typeof addr === 'object' && addr ? addr.port : 0 } satisfies HttpSinkMessage);
});
process.on('message', (m: HttpSinkParentMessage) => {
  if (m.type === 'expect') {
    expected = m.count;
    check();
  }
});
process.on('SIGTERM', () => process.exit(0));
