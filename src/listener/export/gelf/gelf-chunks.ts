import { randomBytes } from 'node:crypto';

/** GELF chunk header: magic 0x1e 0x0f, 8-byte message id, sequence number, sequence count. */
export const CHUNK_HEADER_BYTES = 12;
/** Graylog discards messages of more chunks than this. */
export const MAX_CHUNKS = 128;

/**
 * A message as the datagrams GELF over UDP sends: itself when it fits in `datagramBytes`, else
 * chunks of at most `datagramBytes` (header included) sharing one random message id. Null when it
 * would take more than 128 chunks.
 */
export function gelfChunks(message: Buffer, datagramBytes: number, messageId: Buffer = randomBytes(8)): Buffer[] | null {
  if (message.length <= datagramBytes) return [message];
  const payload = datagramBytes - CHUNK_HEADER_BYTES;
  const count = Math.ceil(message.length / payload);
  if (count > MAX_CHUNKS) return null;
  const chunks: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const part = message.subarray(i * payload, (i + 1) * payload);
    const chunk = Buffer.allocUnsafe(CHUNK_HEADER_BYTES + part.length);
    chunk[0] = 0x1e;
    chunk[1] = 0x0f;
    messageId.copy(chunk, 2, 0, 8);
    chunk[10] = i;
    chunk[11] = count;
    part.copy(chunk, CHUNK_HEADER_BYTES);
    chunks.push(chunk);
  }
  return chunks;
}

/** Largest message (after compression) that fits in 128 chunks of this datagram size. */
export function maxChunkedBytes(datagramBytes: number): number {
  return MAX_CHUNKS * (datagramBytes - CHUNK_HEADER_BYTES);
}
