import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { constants, deflateSync, gzipSync } from 'node:zlib';
import type { ExportRow } from '../../store/store.js';
import { socketErrorCode, yieldToLoop, type SendOutcome, type Sink } from '../sink.js';
import { gelfChunks, maxChunkedBytes } from './gelf-chunks.js';
import { gelfMessage } from './gelf-message.js';

export interface GelfUdpOptions {
  host: string;
  port: number;
  compress: 'gzip' | 'zlib' | 'none';
  /** Largest datagram; bigger messages are chunked. */
  chunkBytes: number;
  fullMessageMaxBytes: number;
  /** After a batch, how long to wait for an ICMP "port unreachable" before counting it delivered. */
  confirmMs: number;
}

/** Messages encoded between yields. */
const SLICE = 50;

/**
 * GELF over UDP: one datagram per message, or GELF chunks when it is larger than `chunkBytes`,
 * compressed with gzip or zlib (what Graylog accepts). UDP confirms nothing; what this sink can
 * see is the ICMP "port unreachable" a host sends back when nothing listens, which a connected
 * socket reports as ECONNREFUSED. A batch with such an error within `confirmMs` is sent again.
 * A receiver host that is gone altogether, or one that drops datagrams, loses them: use tcp:// or
 * tls:// where every record must arrive (docs/exporters.md).
 */
export function createGelfUdpSink(o: GelfUdpOptions): Sink {
  let socket: Socket | null = null;
  let errors = 0;
  let lastError = '';
  const maxBytes = maxChunkedBytes(o.chunkBytes);

  function compress(b: Buffer): Buffer {
    if (o.compress === 'gzip') return gzipSync(b, { level: constants.Z_BEST_SPEED });
    if (o.compress === 'zlib') return deflateSync(b, { level: constants.Z_BEST_SPEED });
    return b;
  }

  /** The datagrams of one record; a message too large for 128 chunks gets a shorter full_message until it fits. */
  function datagrams(row: ExportRow): Buffer[] | null {
    for (let limit = o.fullMessageMaxBytes; ; limit = Math.floor(limit / 4)) {
      const bytes = compress(Buffer.from(JSON.stringify(gelfMessage(row, limit))));
      if (bytes.length <= maxBytes) return gelfChunks(bytes, o.chunkBytes);
      if (limit === 0) return null;
    }
  }

  async function open(): Promise<Socket> {
    if (socket) return socket;
    const s = createSocket(isIP(o.host) === 6 ? 'udp6' : 'udp4');
    s.on('error', (err) => {
      errors++;
      lastError = err.message;
    });
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.connect(o.port, o.host, () => {
          s.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      s.close();
      throw err;
    }
    socket = s;
    return s;
  }

  function sendOne(s: Socket, d: Buffer): Promise<Error | null> {
    return new Promise((resolve) => s.send(d, (err) => resolve(err ?? null)));
  }

  return {
    async send(rows) {
      let s: Socket;
      try {
        s = await open();
      } catch (err) {
        return { kind: 'retry', code: socketErrorCode(err, false), maybeDelivered: false, message: (err as Error).message };
      }
      const before = errors;
      let tooLarge = 0;
      for (let i = 0; i < rows.length; i++) {
        if (i > 0 && i % SLICE === 0) await yieldToLoop();
        const parts = datagrams(rows[i] as ExportRow);
        if (parts === null) {
          tooLarge++;
          continue;
        }
        for (const d of parts) {
          const err = await sendOne(s, d);
          if (err) return fail(err, i > 0);
        }
        if (errors > before) return fail(new Error(lastError), true);
      }
      if (o.confirmMs > 0) await new Promise((resolve) => setTimeout(resolve, o.confirmMs));
      if (errors > before) return fail(new Error(lastError), true);
      return tooLarge > 0 ? { kind: 'delivered', dropped: { reason: 'too_large', count: tooLarge } } : { kind: 'delivered' };

      function fail(err: Error, maybeDelivered: boolean): SendOutcome {
        // A fresh socket next time: a connected UDP socket keeps reporting the old error.
        socket?.close();
        socket = null;
        return { kind: 'retry', code: socketErrorCode(err, true), maybeDelivered, message: err.message };
      }
    },
    async close() {
      socket?.close();
      socket = null;
    },
  };
}
