import { gunzip, gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';

const gunzipAsync = promisify(gunzip);

export type DecodeOutcome = { kind: 'ok'; body: Buffer } | { kind: 'too_large' } | { kind: 'bad_encoding'; message: string };

export type ContentCoding = { kind: 'identity' } | { kind: 'gzip' } | { kind: 'bad_encoding'; message: string };

/** What a `Content-Encoding` header asks for: none, gzip, or something we refuse (400). */
export function contentCoding(contentEncoding: string | undefined): ContentCoding {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return { kind: 'identity' };
  if (encoding === 'gzip' || encoding === 'x-gzip') return { kind: 'gzip' };
  return { kind: 'bad_encoding', message: `unsupported Content-Encoding "${encoding}"; use gzip or none` };
}

/**
 * The body as plain bytes. Gzip is undone with a cap on the output, so a small "zip bomb" cannot
 * expand past `maxBytes` in memory.
 */
export async function decodeBody(raw: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<DecodeOutcome> {
  const coding = contentCoding(contentEncoding);
  if (coding.kind !== 'gzip') return coding.kind === 'identity' ? { kind: 'ok', body: raw } : coding;
  try {
    return { kind: 'ok', body: await gunzipAsync(raw, { maxOutputLength: maxBytes }) };
  } catch (err) {
    return gunzipFailure(err);
  }
}

/** Same as decodeBody's gzip branch, on the calling thread (a parse worker). */
export function gunzipCapped(raw: Buffer, maxBytes: number): DecodeOutcome {
  try {
    return { kind: 'ok', body: gunzipSync(raw, { maxOutputLength: maxBytes }) };
  } catch (err) {
    return gunzipFailure(err);
  }
}

function gunzipFailure(err: unknown): DecodeOutcome {
  if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return { kind: 'too_large' };
  return { kind: 'bad_encoding', message: 'body is not valid gzip' };
}
