import type { ExportRow } from '../store/store.js';

/** Stable codes for failed attempts (metric labels, /ready): a closed set, never an error message. */
export type ExportErrorCode =
  | 'refused' // nothing listens (TCP RST, ICMP port unreachable)
  | 'connect_timeout'
  | 'timeout' // no confirmation within timeoutMs
  | 'reset' // the connection broke while sending
  | 'unconfirmed' // the receiver closed before reading everything, or never closed
  | 'tls' // handshake or certificate
  | 'dns'
  | 'network'
  | 'http_408'
  | 'http_429'
  | 'http_4xx'
  | 'http_5xx'
  | 'worker' // the export thread died while sending (it is restarted)
  | 'bad_request' // the receiver refused the data itself (OTLP 400): retrying cannot help
  | 'too_large'; // the receiver refused the size (413)

/** Why a record was not exported and never will be. Closed set (metric label). */
export type DropReason = 'retention' | 'rejected' | 'too_large';

export type SendOutcome =
  /** The receiver has every record of the batch; `dropped` were left out while encoding (e.g. too large). */
  | { kind: 'delivered'; dropped?: { reason: DropReason; count: number } }
  /** Try the same batch again later. `maybeDelivered`: part of it may have arrived (a resend is a duplicate). */
  | { kind: 'retry'; code: ExportErrorCode; maybeDelivered: boolean; afterMs?: number; message: string }
  /** The receiver refused the data: the exporter splits the batch to find the record, then drops it. */
  | { kind: 'rejected'; code: ExportErrorCode; message: string };

/** The receiver end of one exporter: encodes a batch of stored records and sends it, in order. */
export interface Sink {
  send(rows: readonly ExportRow[]): Promise<SendOutcome>;
  close(): Promise<void>;
}

/** Lets the event loop run between slices of CPU work (encoding a batch), so ingest is not held up. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Maps a Node socket error to a code. */
export function socketErrorCode(err: unknown, connected: boolean): ExportErrorCode {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns';
  if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT') return 'tls';
  if (code === 'ECONNRESET' || code === 'EPIPE') return connected ? 'reset' : 'refused';
  return 'network';
}
