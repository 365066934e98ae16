import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { ExportRow } from '../../store/store.js';
import { socketErrorCode, yieldToLoop, type SendOutcome, type Sink } from '../sink.js';
import { gelfMessage } from './gelf-message.js';

export interface GelfTcpOptions {
  host: string;
  port: number;
  /** tls:// : options for tls.connect (CA, client certificate, verification); null = plain TCP. */
  tls: ConnectionOptions | null;
  fullMessageMaxBytes: number;
  connectTimeoutMs: number;
  timeoutMs: number;
}

/** Messages encoded between yields to the event loop. */
const SLICE = 50;

/**
 * GELF over TCP or TLS: NUL-terminated JSON frames. GELF has no acknowledgement, so each batch
 * gets a connection of its own and counts as delivered only when the receiver, after reading it
 * all, closes its side in answer to ours (our FIN, its FIN; no RST). A receiver that dies or closes
 * with unread data resets instead, and the batch is sent again: at least once, never silently
 * lost in a socket buffer. One connection per batch (a few per second) is cheap.
 */
export function createGelfTcpSink(o: GelfTcpOptions): Sink {
  let current: Socket | null = null;

  async function encode(rows: readonly ExportRow[]): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (i > 0 && i % SLICE === 0) await yieldToLoop();
      parts.push(Buffer.from(`${JSON.stringify(gelfMessage(rows[i] as ExportRow, o.fullMessageMaxBytes))}\0`));
    }
    return Buffer.concat(parts);
  }

  return {
    async send(rows) {
      const frames = await encode(rows);
      return new Promise<SendOutcome>((resolve) => {
        let connected = false;
        let finished = false; // all our bytes are in the kernel and our FIN is queued
        let peerEnded = false;
        let settled = false;
        const socket = o.tls ? tlsConnect({ host: o.host, port: o.port, servername: o.host, ...o.tls }) : netConnect({ host: o.host, port: o.port });
        current = socket;
        const connectTimer = setTimeout(() => fail({ kind: 'retry', code: 'connect_timeout', maybeDelivered: false, message: `no connection within ${o.connectTimeoutMs} ms` }), o.connectTimeoutMs);
        const timer = setTimeout(
          () => fail({ kind: 'retry', code: connected ? 'timeout' : 'connect_timeout', maybeDelivered: connected, message: `receiver did not confirm within ${o.timeoutMs} ms` }),
          o.timeoutMs,
        );
        function fail(outcome: SendOutcome): void {
          if (settled) return;
          settled = true;
          clearTimeout(connectTimer);
          clearTimeout(timer);
          socket.destroy();
          resolve(outcome);
        }
        socket.setNoDelay(true);
        socket.once(o.tls ? 'secureConnect' : 'connect', () => {
          connected = true;
          clearTimeout(connectTimer);
          socket.end(frames, () => (finished = true));
        });
        socket.on('data', () => undefined); // GELF receivers send nothing; reading keeps 'end' flowing
        socket.on('end', () => (peerEnded = true));
        socket.on('error', (err) => fail({ kind: 'retry', code: socketErrorCode(err, connected), maybeDelivered: connected, message: err.message }));
        socket.on('close', () => {
          if (settled) return;
          if ((finished || socket.writableFinished) && peerEnded) {
            settled = true;
            clearTimeout(connectTimer);
            clearTimeout(timer);
            resolve({ kind: 'delivered' });
          } else fail({ kind: 'retry', code: 'unconfirmed', maybeDelivered: connected, message: 'connection closed before the receiver confirmed the batch' });
        });
      }).finally(() => (current = null));
    },
    async close() {
      current?.destroy();
    },
  };
}
