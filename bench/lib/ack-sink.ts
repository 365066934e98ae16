/**
 * The listener stand-in for the delivery benchmark: an HTTP server that reads each POST and
 * answers 200 at once, without decompressing (the daemon's own `items_sent` counts delivered
 * messages; this process only has to be cheap). It can go down and come back on the same port
 * and records when the first request after `up` was acknowledged. Started by fork(); IPC:
 *   -> {type:'listening', port}
 *   <- {type:'down'} -> {type:'isDown'}     <- {type:'up'} -> {type:'isUp', at}
 *   <- {type:'report'} -> {type:'report', requests, wireBytes, firstAckAfterUpAt}
 * Times are Date.now() ms, comparable with the parent's clock on the same machine.
 */
import { createServer, type Server } from 'node:http';
import { exitWithParent } from './child.js';

exitWithParent();

export type AckSinkParentMessage = { type: 'down' } | { type: 'up' } | { type: 'report' };
export type AckSinkMessage =
  | { type: 'listening'; port: number }
  | { type: 'isDown' }
  | { type: 'isUp'; at: number }
  | { type: 'report'; requests: number; wireBytes: number; firstAckAfterUpAt: number | null };

if (!process.send) {
  console.error('ack-sink.js is started by delivery.bench with an IPC channel');
  process.exit(2);
}

let requests = 0;
let wireBytes = 0;
let firstAckAfterUpAt: number | null = null;
let server: Server | null = null;
let port = 0; // the first listen picks one; `up` reuses it

function listen(onDone: () => void): void {
  const s = createServer((req, res) => {
    req.on('data', (c: Buffer) => (wireBytes += c.length));
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":0,"duplicates":0,"rejected":[]}');
      firstAckAfterUpAt ??= Date.now();
    });
  });
  s.keepAliveTimeout = 60_000;
  s.listen(port, '127.0.0.1', () => {
    const addr = s.address();
    port = typeof addr === 'object' && addr ? addr.port : port;
    server = s;
    onDone();
  });
}

process.on('message', (m: AckSinkParentMessage) => {
  switch (m.type) {
    case 'down': {
      const s = server;
      server = null;
      if (!s) return void process.send?.({ type: 'isDown' } satisfies AckSinkMessage);
      s.close(() => process.send?.({ type: 'isDown' } satisfies AckSinkMessage));
      s.closeAllConnections();
      return;
    }
    case 'up':
      firstAckAfterUpAt = null;
      listen(() => process.send?.({ type: 'isUp', at: Date.now() } satisfies AckSinkMessage));
      return;
    case 'report':
      process.send?.({ type: 'report', requests, wireBytes, firstAckAfterUpAt } satisfies AckSinkMessage);
      return;
  }
});

listen(() => process.send?.({ type: 'listening', port } satisfies AckSinkMessage));
process.on('SIGTERM', () => process.exit(0));
