/** Position after the last item of a page, newest first: (timestamp, row id). Opaque to clients. */
export interface Cursor {
  ts: number;
  id: number;
}

export function encodeCursor(ts: number, id: number): string {
  return Buffer.from(`${ts}:${id}`).toString('base64url');
}

/** Null for a cursor we did not issue; the caller answers 400. */
export function decodeCursor(text: string): Cursor | null {
  const m = /^(-?[\d.e+-]+):(\d+)$/.exec(Buffer.from(text, 'base64url').toString());
  if (!m) return null;
  const ts = Number(m[1]);
  const id = Number(m[2]);
  return Number.isFinite(ts) && Number.isSafeInteger(id) ? { ts, id } : null;
}
