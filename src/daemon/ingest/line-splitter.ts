/**
 * Splits a byte stream into newline-terminated messages without copying more than needed:
 * chunks are kept as they arrive and joined only when a line completes. A line longer than
 * maxBytes is reported once and then skipped up to its newline, so a client sending an endless
 * line costs at most maxBytes of memory.
 *
 * `onLine` may answer `false` to stop after that line (the connection is waiting for the queue):
 * the rest of the chunk stays here, unsplit, until `resume()`. So one connection holds at most
 * one read chunk plus one unfinished line while it waits (DESIGN section 2's per-connection bound).
 */
export interface LineSplitterOptions {
  maxBytes: number;
  /**
   * Return false to stop splitting until resume(). `terminated` is false only for a last line the
   * stream ended without a newline (it is still a message if it parses).
   */
  onLine: (line: Buffer, terminated: boolean) => boolean | void;
  /** `sample` is the first bytes of the oversized line, for quarantine. */
  onOversized: (sample: Buffer) => void;
}

export interface LineSplitter {
  /** Splits `chunk` (or queues it while stopped). */
  push(chunk: Buffer): void;
  /** Continues with what was left when onLine stopped; false if it stopped again. */
  resume(): boolean;
  /** True while stopped by onLine with input left to split. */
  stopped(): boolean;
  /** End of stream: a last line without its newline is still a message (DESIGN section 2). */
  end(): void;
  /** Bytes held for an unfinished line and for chunks not yet split. */
  buffered(): number;
  /**
   * For a connection we close ourselves: splits everything still waiting without stopping, then
   * hands over and forgets the unfinished line.
   */
  takePartial(): Buffer | null;
}

export function createLineSplitter(o: LineSplitterOptions): LineSplitter {
  let parts: Buffer[] = [];
  let partsBytes = 0;
  let skipping = false; // inside an oversized line: discard until its newline
  const waiting: Buffer[] = []; // chunks (or the rest of one) not split yet because onLine said stop
  let waitingBytes = 0;
  let isStopped = false;
  let endPending = false;
  let force = false; // closing: onLine can no longer stop us

  function emit(tail: Buffer, terminated = true): boolean {
    if (parts.length === 0) return tail.length === 0 || o.onLine(tail, terminated) !== false || force;
    parts.push(tail);
    const line = Buffer.concat(parts, partsBytes + tail.length);
    parts = [];
    partsBytes = 0;
    return o.onLine(line, terminated) !== false || force;
  }

  function overflow(): void {
    const sample = Buffer.concat(parts).subarray(0, 4096);
    parts = [];
    partsBytes = 0;
    skipping = true;
    o.onOversized(sample);
  }

  /** Splits one chunk; returns the unsplit rest if onLine stopped, else null. */
  function split(chunk: Buffer): Buffer | null {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) {
        if (skipping) return null;
        const rest = start === 0 ? chunk : chunk.subarray(start);
        parts.push(rest);
        partsBytes += rest.length;
        if (partsBytes > o.maxBytes) overflow();
        return null;
      }
      let go = true;
      if (skipping) skipping = false;
      else if (partsBytes + (nl - start) > o.maxBytes) {
        parts.push(chunk.subarray(start, nl));
        overflow();
        skipping = false;
      } else go = emit(chunk.subarray(start, nl));
      start = nl + 1;
      if (!go) return start < chunk.length ? chunk.subarray(start) : Buffer.alloc(0);
    }
    return null;
  }

  function finishEnd(): void {
    endPending = false;
    if (!skipping && partsBytes > 0) emit(Buffer.alloc(0), false);
    parts = [];
    partsBytes = 0;
  }

  function drainWaiting(): boolean {
    isStopped = false;
    while (waiting.length > 0) {
      const chunk = waiting.shift() as Buffer;
      waitingBytes -= chunk.length;
      const rest = split(chunk);
      if (rest) {
        if (rest.length > 0) {
          waiting.unshift(rest);
          waitingBytes += rest.length;
        }
        isStopped = true;
        return false;
      }
    }
    if (endPending) finishEnd();
    return true;
  }

  return {
    push(chunk) {
      if (isStopped) {
        waiting.push(chunk);
        waitingBytes += chunk.length;
        return;
      }
      const rest = split(chunk);
      if (rest) {
        isStopped = true;
        if (rest.length > 0) {
          waiting.push(rest);
          waitingBytes += rest.length;
        }
      }
    },
    resume: drainWaiting,
    stopped: () => isStopped,
    end() {
      if (isStopped) endPending = true;
      else finishEnd();
    },
    buffered: () => partsBytes + waitingBytes,
    takePartial() {
      force = true;
      drainWaiting();
      endPending = false;
      if (skipping || partsBytes === 0) {
        parts = [];
        partsBytes = 0;
        return null;
      }
      const line = Buffer.concat(parts, partsBytes);
      parts = [];
      partsBytes = 0;
      return line;
    },
  };
}
