import { randomUUID } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { ackRequestLine, type AckCounts } from '../protocol/control-lines.js';

export type SendResult =
  /** The daemon answered: every line is accepted, refused or dropped by its policy, and counted. */
  | { kind: 'acked'; counts: AckCounts }
  /** No answer within the budget (or no daemon): the sender still owns its data. */
  | { kind: 'failed'; reason: 'connect' | 'timeout' | 'closed' | 'bad_reply'; detail: string };

/**
 * Sends NDJSON lines to the daemon's socket and waits for its acknowledgement (protocol in
 * shared/protocol/control-lines.ts), all within `timeoutMs`. What the PHP client does, for Node
 * senders (the CLI's `send`, the Postgres agent, tests and the soak run). Never throws.
 */
export function sendAcked(socketPath: string, lines: readonly string[], timeoutMs: number): Promise<SendResult> {
  return new Promise((resolve) => {
    const token = randomUUID().slice(0, 8);
    let reply = '';
    let done = false;
    const finish = (r: SendResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ kind: 'failed', reason: 'timeout', detail: `no acknowledgement within ${timeoutMs} ms` }), timeoutMs);
    let connected = false;
    const socket = createConnection(socketPath, () => {
      connected = true;
      const body = lines.map((l) => (l.endsWith('\n') ? l : `${l}\n`)).join('') + ackRequestLine(token);
      socket.end(body); // half-close: the daemon answers, then ends its side
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      reply += chunk;
      const nl = reply.indexOf('\n');
      if (nl === -1) {
        if (reply.length > 4096) finish({ kind: 'failed', reason: 'bad_reply', detail: 'reply too long' });
        return;
      }
      finish(parseReply(reply.slice(0, nl), token));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish({ kind: 'failed', reason: connected ? 'closed' : 'connect', detail: err.code ?? err.message }));
    socket.on('close', () => finish({ kind: 'failed', reason: connected ? 'closed' : 'connect', detail: 'closed without an acknowledgement' }));
  });
}

function parseReply(line: string, token: string): SendResult {
  try {
    const r = JSON.parse(line) as Record<string, unknown>;
    const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : -1);
    const counts = { accepted: n(r.accepted), rejected: n(r.rejected), dropped: n(r.dropped) };
    if (r.ack === token && counts.accepted >= 0 && counts.rejected >= 0 && counts.dropped >= 0) return { kind: 'acked', counts };
  } catch {
    // fall through
  }
  return { kind: 'failed', reason: 'bad_reply', detail: line.slice(0, 200) };
}

/** The inbox fallback (DESIGN section 2): one file per profile, written under a hidden name, then renamed into view. */
export async function writeInboxFile(inboxDir: string, json: string, id: string): Promise<string> {
  const name = `profile_${Date.now()}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}_${id.replace(/[^A-Za-z0-9-]/g, '')}.json`;
  const tmp = join(inboxDir, `.${name}.${process.pid}.tmp`);
  await writeFile(tmp, json, { mode: 0o666 });
  await rename(tmp, join(inboxDir, name));
  return name;
}
