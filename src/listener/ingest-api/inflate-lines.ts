import { createGunzip } from 'node:zlib';
import { createLineSplitter } from './line-splitter.js';

export type InflateOutcome = { kind: 'ok' } | { kind: 'too_large' } | { kind: 'bad_encoding'; message: string };

/** Output piece size: small enough that a line's surplus past maxLineBytes is dropped in small steps. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Gunzips `raw` as a stream and hands each line to `onLine` as soon as its newline is inflated
 * (null for a line over `maxLineBytes`, see line-splitter.ts), so the inflated body is never held
 * whole: memory is one chunk plus the current line. The stream is consumed one chunk at a time,
 * and zlib stops inflating while its output is not read. More than `maxBodyBytes` of output in
 * total stops the inflation: `too_large` (413), as for a plain body of that size.
 */
export async function inflateLines(raw: Buffer, maxBodyBytes: number, maxLineBytes: number, onLine: (line: Buffer | null, lineNo: number) => void): Promise<InflateOutcome> {
  const splitter = createLineSplitter(maxLineBytes, onLine);
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
  let total = 0;
  try {
    gunzip.end(raw);
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBodyBytes) {
        gunzip.destroy();
        return { kind: 'too_large' };
      }
      splitter.push(chunk);
    }
  } catch {
    return { kind: 'bad_encoding', message: 'body is not valid gzip' };
  }
  splitter.end();
  return { kind: 'ok' };
}
