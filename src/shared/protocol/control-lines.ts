/**
 * Control lines of the socket protocol (DESIGN section 2, acknowledged sends from issue 9). They
 * travel on the same NDJSON stream as profiles but are never messages: they are recognised by a
 * fixed prefix, so telling them apart costs one short byte comparison per line.
 *
 * Acknowledged send: after its messages, a client writes `{"bitville_ack":<token>}` and waits.
 * The daemon answers `{"ack":<token>,"accepted":A,"rejected":R,"dropped":D}` once every message
 * the connection sent before that line is safe (memory mode: in the memory buffer; durable mode:
 * appended and fsynced), refused (rejected) or dropped by the spool's policy. Senders that just
 * write and close never see a reply and work as before.
 */
export const ACK_REQUEST_PREFIX = '{"bitville_ack":';
/** The daemon's own probe at shutdown: every connection queued before it has been accepted. */
export const SENTINEL_PREFIX = '{"bitville_sentinel":';
/** Longest control line; a longer line is an ordinary message. */
export const MAX_CONTROL_LINE_BYTES = 256;

const ACK = Buffer.from(ACK_REQUEST_PREFIX);
const SENTINEL = Buffer.from(SENTINEL_PREFIX);

export type ControlLine =
  /** `token` is the JSON text of the client's token, echoed as is. */
  | { kind: 'ack_request'; token: string }
  | { kind: 'sentinel'; nonce: string };

export interface AckCounts {
  accepted: number;
  rejected: number;
  dropped: number;
}

/** The control line in `line`, or null when it is an ordinary message (the common case). */
export function parseControlLine(line: Buffer): ControlLine | null {
  if (line.length > MAX_CONTROL_LINE_BYTES || line[0] !== 0x7b || line[1] !== 0x22) return null;
  const ack = startsWith(line, ACK);
  if (!ack && !startsWith(line, SENTINEL)) return null;
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  if (ack) {
    const token = record.bitville_ack;
    if (typeof token !== 'string' && typeof token !== 'number' && typeof token !== 'boolean') return null;
    return { kind: 'ack_request', token: JSON.stringify(token) };
  }
  const nonce = record.bitville_sentinel;
  return typeof nonce === 'string' ? { kind: 'sentinel', nonce } : null;
}

export function ackRequestLine(token: string | number | boolean): string {
  return `${ACK_REQUEST_PREFIX}${JSON.stringify(token)}}\n`;
}

export function ackReplyLine(token: string, c: AckCounts): Buffer {
  return Buffer.from(`{"ack":${token},"accepted":${c.accepted},"rejected":${c.rejected},"dropped":${c.dropped}}\n`);
}

export function sentinelLine(nonce: string): string {
  return `${SENTINEL_PREFIX}${JSON.stringify(nonce)}}\n`;
}

function startsWith(line: Buffer, prefix: Buffer): boolean {
  return line.length >= prefix.length && line.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}
