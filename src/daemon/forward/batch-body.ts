import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';

const gzip = promisify(gzipCb);
const NL = Buffer.from('\n');

export interface BodyEncoding {
  /** `gzip` (default) or `none`: on a LAN the CPU may be dearer than the bytes (docs/benchmarks.md). */
  compression: 'none' | 'gzip';
  /** zlib level 1-9 for gzip. Default 1: the daemon runs on application hosts. */
  compressionLevel: number;
}

/**
 * A batch's request body as NDJSON: one gzip buffer (compressed in the libuv pool, off the event
 * loop), or with compression none the items and newlines as they are, without a copy. The same
 * for every listener URL, so the forwarder can encode the next batch before it knows its target.
 */
export async function encodeBatch(items: readonly Buffer[], e: BodyEncoding): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  for (const item of items) parts.push(item, NL);
  return e.compression === 'gzip' ? [await gzip(Buffer.concat(parts), { level: e.compressionLevel })] : parts;
}
