import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';

/**
 * How a stored payload's bytes are encoded. `identity` = exactly as received; `brotli` = the
 * received bytes through Brotli quality 1. Decoding always gives the received bytes back.
 */
export type PayloadEncoding = 'identity' | 'brotli';

/** Column values in `payloads.encoding` / `db_activity.encoding` (migration 2). */
export const ENCODING_CODE: Readonly<Record<PayloadEncoding, number>> = { identity: 0, brotli: 1 };

/** Column value back to its encoding name; undefined for a code this version does not know. */
export function encodingOfCode(code: number): PayloadEncoding | undefined {
  return (Object.keys(ENCODING_CODE) as PayloadEncoding[]).find((e) => ENCODING_CODE[e] === code);
}

/** Smaller payloads are stored as they are: compressing them saves less than it costs. */
export const MIN_PACK_BYTES = 512;

export interface PackedPayload {
  encoding: PayloadEncoding;
  bytes: Buffer;
}

/**
 * Quality 1 measured ~15 µs for a 10 KB profile and about 1/5 of its size on this machine, cheaper than
 * deflate level 1 (~30 µs) at a similar ratio; higher qualities cost several times more for a few
 * per cent. Kept only when it saves at least an eighth, so incompressible bytes stay as they are.
 */
export function packPayload(body: Buffer): PackedPayload {
  if (body.length < MIN_PACK_BYTES) return { encoding: 'identity', bytes: body };
  const packed = brotliCompressSync(body, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 1, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
  });
  return packed.length <= body.length - (body.length >> 3) ? { encoding: 'brotli', bytes: packed } : { encoding: 'identity', bytes: body };
}

/** The received bytes back from a stored column pair; unknown codes are programmer bugs. */
export function unpackPayload(code: number, bytes: Buffer): Buffer {
  if (code === ENCODING_CODE.identity) return bytes;
  if (code === ENCODING_CODE.brotli) return brotliDecompressSync(bytes);
  throw new Error(`unknown payload encoding ${code}`);
}
