import { ackReplyLine, type AckCounts } from '../../shared/protocol/control-lines.js';
import type { SettleOutcome } from '../buffer/queue.js';

/** What became of one message of a connection: the queue's outcome, or refused by the intake. */
export type MessageOutcome = SettleOutcome | 'rejected';

/** The messages between two acknowledgement requests, and how many of them are still undecided. */
export interface AckSpan extends AckCounts {
  /** JSON text of the client's token once it asked; null while the span is still open. */
  token: string | null;
  outstanding: number;
  /** One of its messages could not be confirmed: the client must not be told it is safe. */
  unsafe: boolean;
  /** Where `confirm` (the fdatasync of durable mode) stands for its accepted messages. */
  durable: 'unasked' | 'asking' | 'yes';
}

export interface AckTracker {
  /** A message starts: it belongs to the open span. Settle it exactly once. */
  begin(): AckSpan;
  settle(span: AckSpan, outcome: MessageOutcome): void;
  /** The client asked for an acknowledgement of everything it sent so far. */
  request(token: string): void;
  /** True while a requested acknowledgement has not been written yet. */
  pending(): boolean;
}

/**
 * Acknowledged sends for one connection (protocol in shared/protocol/control-lines.ts). Replies go
 * out in request order, each once every message before its request is decided and, if any was
 * accepted, `confirm` has made them durable (Queue.whenDurable). A span with an unconfirmed
 * message is never acknowledged: `onUnsafe` closes the connection, so the client falls back to
 * its inbox file at once instead of waiting for its budget to run out.
 */
export function createAckTracker(write: (reply: Buffer) => void, onUnsafe: () => void, confirm: (cb: (ok: boolean) => void) => void): AckTracker {
  const spans: AckSpan[] = [openSpan()];

  function openSpan(): AckSpan {
    return { token: null, outstanding: 0, accepted: 0, rejected: 0, dropped: 0, unsafe: false, durable: 'unasked' };
  }

  function flush(): void {
    for (;;) {
      const first = spans[0] as AckSpan;
      if (first.token === null || first.outstanding > 0 || first.durable === 'asking') return;
      if (first.unsafe) {
        onUnsafe();
        return;
      }
      if (first.accepted > 0 && first.durable === 'unasked') {
        first.durable = 'asking';
        confirm((ok) => {
          first.durable = 'yes'; // asked and answered; a failure marks it unsafe, never answered
          if (!ok) first.unsafe = true;
          flush();
        });
        return;
      }
      spans.shift();
      write(ackReplyLine(first.token, first));
    }
  }

  return {
    begin() {
      const span = spans[spans.length - 1] as AckSpan;
      span.outstanding++;
      return span;
    },
    settle(span, outcome) {
      span.outstanding--;
      if (outcome === 'accepted') span.accepted++;
      else if (outcome === 'rejected') span.rejected++;
      else if (outcome === 'dropped' || outcome === 'deferred') span.dropped++; // deferred is for inbox files only
      else span.unsafe = true;
      if (span.token !== null) flush();
    },
    request(token) {
      (spans[spans.length - 1] as AckSpan).token = token;
      spans.push(openSpan());
      flush();
    },
    pending: () => spans.length > 1,
  };
}
