import { parentPort, workerData } from 'node:worker_threads';
import type { ExportRow } from '../store/store.js';
import { buildSink, type SinkSpec } from './sink-spec.js';
import type { SendOutcome } from './sink.js';

/** A row as it crosses to the export thread: its stored bytes are a slice of the batch's one transferred buffer. */
export type WireRow = Omit<ExportRow, 'stored'> & { at: number; len: number };

export type ToThread = { type: 'send'; id: number; rows: WireRow[]; bytes: ArrayBuffer } | { type: 'close' };
export type FromThread =
  | { type: 'outcome'; id: number; outcome: SendOutcome }
  | { type: 'rejected_spans'; count: number; message: string }
  | { type: 'closed' };

/**
 * Export thread entry (worker-sink.ts starts it): builds the sink from `workerData` and runs each
 * batch through it, one at a time, as the exporter sends them. Encoding (payload decompression,
 * GELF JSON, OTLP spans and protobuf, gzip) and the network I/O happen here, never on the event
 * loop that serves ingest.
 */
const port = parentPort;
if (port) {
  const post = (m: FromThread): void => port.postMessage(m);
  const sink = buildSink(workerData as SinkSpec, { onRejectedSpans: (count, message) => post({ type: 'rejected_spans', count, message }) });
  port.on('message', (m: ToThread) => {
    if (m.type === 'close') {
      void sink.close().finally(() => post({ type: 'closed' }));
      return;
    }
    const all = Buffer.from(m.bytes);
    const rows: ExportRow[] = m.rows.map((r) => ({ stream: r.stream, position: r.position, project: r.project, source: r.source, key: r.key, timestamp: r.timestamp, profile: r.profile, encoding: r.encoding, facts: r.facts, stored: all.subarray(r.at, r.at + r.len) }));
    sink.send(rows).then(
      (outcome) => post({ type: 'outcome', id: m.id, outcome }),
      (err: unknown) => post({ type: 'outcome', id: m.id, outcome: { kind: 'retry', code: 'worker', maybeDelivered: true, message: `export thread: ${(err as Error).message}` } }),
    );
  });
}
