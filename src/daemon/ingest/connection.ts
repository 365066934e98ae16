import type { Socket } from 'node:net';
import { isControlStart, parseControlLine } from '../../shared/protocol/control-lines.js';
import type { IngestMetrics } from './ingest-metrics.js';
import { createAckTracker } from './ack-tracker.js';
import type { IngestGate } from './ingest-gate.js';
import type { Intake } from './intake.js';
import { createLineSplitter } from './line-splitter.js';

export interface ConnectionDeps {
  maxMessageBytes: number;
  intake: Intake;
  gate: IngestGate;
  metrics: IngestMetrics;
  /** The daemon's own shutdown probe arrived (shared/protocol/control-lines.ts). */
  onSentinel: (nonce: string) => void;
  /** Queue.whenDurable: an acknowledgement waits for it. */
  whenDurable: (cb: (ok: boolean) => void) => void;
  now: () => number;
}

export interface Connection {
  /** Last time the client sent anything. */
  lastActiveAt(): number;
  /** Not idle: it waits for the queue or for its acknowledgement, i.e. for us. */
  waitingForUs(): boolean;
  /** We close it (idle, shutdown): what it sent completely is still handled, a cut-off line only if it parses. */
  close(): void;
}

/**
 * One client connection of the Unix socket: splits its NDJSON stream, answers acknowledgement
 * requests, and waits its turn at the gate while the queue is congested. The server runs with
 * allowHalfOpen, so a client may shut down its writing side and still read its acknowledgement;
 * we end our side once everything it sent is decided and answered.
 */
export function handleConnection(socket: Socket, d: ConnectionDeps): Connection {
  let lastActiveAt = d.now();
  let held: { line: Buffer; terminated: boolean } | null = null; // a message waiting for the gate
  let ended = false; // the client will send nothing more
  let closed = false;
  let wrote = false; // we answered something: end() must flush it before closing

  const acks = createAckTracker(
    (reply) => {
      wrote = true;
      if (!socket.destroyed) socket.write(reply);
      finishIfDone();
    },
    () => socket.destroy(), // unconfirmed: no acknowledgement, the client keeps its copy
    d.whenDurable,
  );

  const splitter = createLineSplitter({
    maxBytes: d.maxMessageBytes,
    onLine: (line, terminated) => {
      if (isControlStart(line)) {
        const control = parseControlLine(line);
        if (control?.kind === 'ack_request') {
          acks.request(control.token);
          return true;
        }
        if (control?.kind === 'sentinel') {
          d.onSentinel(control.nonce);
          socket.destroy();
          return false;
        }
      }
      if (!closed && !d.gate.open()) {
        held = { line, terminated };
        socket.pause();
        d.gate.wait(takeTurn);
        return false;
      }
      offer(line, terminated);
      return true;
    },
    onOversized: (sample) => {
      d.intake.reject('oversized', sample, 'unix');
      const span = acks.begin();
      acks.settle(span, 'rejected');
    },
  });

  /** `terminated: false`: a last line the client could not finish counts as `incomplete` if it does not parse (finding 9). */
  function offer(line: Buffer, terminated: boolean): void {
    const span = acks.begin();
    const offered = d.intake.handle(line, 'unix', (outcome) => acks.settle(span, outcome), !terminated);
    if (!offered) acks.settle(span, 'rejected');
  }

  function takeTurn(): void {
    const h = held;
    held = null;
    if (h) offer(h.line, h.terminated);
    if (closed) return;
    if (splitter.resume()) {
      socket.resume();
      finishIfDone();
    }
  }

  function finishIfDone(): void {
    if (!ended || held !== null || splitter.stopped() || acks.pending() || socket.destroyed) return;
    // A write-and-close client (most of them) got no answer to flush: closing at once spares the
    // shutdown(2) request and stream finish that end() costs on every connection.
    if (wrote) socket.end();
    else socket.destroy();
  }

  socket.on('data', (chunk: Buffer) => {
    lastActiveAt = d.now();
    d.metrics.receivedBytes('unix', chunk.length);
    splitter.push(chunk);
  });
  socket.on('end', () => {
    ended = true;
    splitter.end(); // a last line without newline counts if it parses (DESIGN section 2)
    finishIfDone();
  });
  socket.on('error', () => undefined); // resets from clients that gave up are normal; 'close' follows
  socket.on('close', () => {
    closed = true;
    d.gate.forget(takeTurn);
  });

  return {
    lastActiveAt: () => lastActiveAt,
    waitingForUs: () => held !== null || acks.pending(),
    close() {
      if (closed) return;
      closed = true;
      d.gate.forget(takeTurn);
      const h = held;
      held = null;
      if (h) offer(h.line, h.terminated);
      const partial = splitter.takePartial(); // whole lines still waiting are handled first
      if (partial) offer(partial, false);
      socket.destroy();
    },
  };
}
