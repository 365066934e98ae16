import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';

const gunzipAsync = promisify(gunzip);

export type DecodeOutcome = { kind: 'ok'; body: Buffer } | { kind: 'too_large' } | { kind: 'bad_encoding'; message: string };

/**
 * The body as plain bytes. Gzip is undone with a cap on the output, so a small "zip bomb" cannot
 * expand past `maxBytes` in memory.
 */
export async function decodeBody(raw: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<DecodeOutcome> {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return { kind: 'ok', body: raw };
  if (encoding !== 'gzip' && encoding !== 'x-gzip') return { kind: 'bad_encoding', message: `unsupported Content-Encoding "${encoding}"; use gzip or none` };
  try {
    return { kind: 'ok', body: await gunzipAsync(raw, { maxOutputLength: maxBytes }) };
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return { kind: 'too_large' };
    return { kind: 'bad_encoding', message: 'body is not valid gzip' };
  }
}
