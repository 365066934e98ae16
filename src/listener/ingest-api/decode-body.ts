import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';

const gunzipAsync = promisify(gunzip);

export type DecodeOutcome = { kind: 'ok'; body: Buffer } | { kind: 'too_large' } | { kind: 'bad_encoding'; message: string };

export type ContentCoding = { kind: 'identity' } | { kind: 'gzip' } | { kind: 'bad_encoding'; message: string };

/** What a `Content-Encoding` header asks for: none, gzip, or something we refuse (400). */
export function contentCoding(contentEncoding: string | undefined): ContentCoding {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return { kind: 'identity' };
  if (encoding === 'gzip' || encoding === 'x-gzip') return { kind: 'gzip' };
  return { kind: 'bad_encoding', message: `unsupported Content-Encoding "${encoding.slice(0, 40)}"; use gzip or none` };
}

/**
 * The body as plain bytes, at most `maxBytes` of them (else `too_large`). Gzip is undone with a
 * cap on the output, so a small "zip bomb" cannot expand past `maxBytes` in memory. For the
 * single-object routes, whose whole body is one profile (NDJSON batches inflate as a stream in
 * the parse workers instead: inflate-lines.ts).
 */
export async function decodeBody(raw: Buffer, coding: ContentCoding, maxBytes: number): Promise<DecodeOutcome> {
  if (coding.kind === 'bad_encoding') return coding;
  if (coding.kind === 'identity') return raw.length > maxBytes ? { kind: 'too_large' } : { kind: 'ok', body: raw };
  try {
    return { kind: 'ok', body: await gunzipAsync(raw, { maxOutputLength: maxBytes }) };
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return { kind: 'too_large' };
    return { kind: 'bad_encoding', message: 'body is not valid gzip' };
  }
}
