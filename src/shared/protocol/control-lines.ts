/**
 * Control lines of the socket protocol (DESIGN section 2, acknowledged sends from issue 9). They
 * travel on the same NDJSON stream as profiles but are never messages: they are recognised by a
 * fixed prefix, so telling them apart costs one short byte comparison per line.
 *
 * Acknowledged send: after its messages, a client writes `["bitville_ack",<token>]` and waits.
 * The daemon answers `{"ack":<token>,"accepted":A,"rejected":R,"dropped":D}` once every message
 * the connection sent before that line is safe (memory mode: in the memory buffer; durable mode:
 * appended and fsynced), refused (rejected) or dropped by the spool's policy. Senders that just
 * write and close never see a reply and work as before.
 *
 * Control lines are JSON arrays on purpose: a daemon that predates them rejects a non-object line
 * (DESIGN section 2: counted, nothing stored), so a new client talking to an old daemon costs a
 * counter and its timeout, never a bogus profile.
 */
export const ACK_REQUEST_PREFIX = '["bitville_ack",';
/** The daemon's own probe at shutdown: every connection queued before it has been accepted. */
export const SENTINEL_PREFIX = '["bitville_sentinel",';
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
  if (line.length > MAX_CONTROL_LINE_BYTES || !isControlStart(line)) return null;
  const ack = startsWith(line, ACK);
  if (!ack && !startsWith(line, SENTINEL)) return null;
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 2) return null;
  const arg: unknown = value[1];
  if (ack) {
    if (typeof arg !== 'string' && typeof arg !== 'number' && typeof arg !== 'boolean') return null;
    return { kind: 'ack_request', token: JSON.stringify(arg) };
  }
  return typeof arg === 'string' ? { kind: 'sentinel', nonce: arg } : null;
}

/** `["b`: the two bytes every control line starts with; one check per line on the hot path. */
export function isControlStart(line: Buffer): boolean {
  return line[0] === 0x5b && line[1] === 0x22;
}

export function ackRequestLine(token: string | number | boolean): string {
  return `${ACK_REQUEST_PREFIX}${JSON.stringify(token)}]\n`;
}

export function ackReplyLine(token: string, c: AckCounts): Buffer {
  return Buffer.from(`{"ack":${token},"accepted":${c.accepted},"rejected":${c.rejected},"dropped":${c.dropped}}\n`);
}

export function sentinelLine(nonce: string): string {
  return `${SENTINEL_PREFIX}${JSON.stringify(nonce)}]\n`;
}

function startsWith(line: Buffer, prefix: Buffer): boolean {
  return line.length >= prefix.length && line.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}
