/**
 * Splits a byte stream into newline-terminated messages without copying more than needed:
 * chunks are kept as they arrive and joined only when a line completes. A line longer than
 * maxBytes is reported once and then skipped up to its newline, so a client sending an endless
 * line costs at most maxBytes of memory.
 */
export interface LineSplitterOptions {
  maxBytes: number;
  onLine: (line: Buffer) => void;
  /** `sample` is the first bytes of the oversized line, for quarantine. */
  onOversized: (sample: Buffer) => void;
}

export interface LineSplitter {
  push(chunk: Buffer): void;
  /** End of stream: a last line without its newline is still a message (DESIGN section 2). */
  end(): void;
  /** Bytes held for an unfinished line. */
  buffered(): number;
  /** Hands over and forgets the unfinished line (for a connection we close ourselves). */
  takePartial(): Buffer | null;
}

export function createLineSplitter(o: LineSplitterOptions): LineSplitter {
  let parts: Buffer[] = [];
  let partsBytes = 0;
  let skipping = false; // inside an oversized line: discard until its newline

  function emit(tail: Buffer): void {
    if (parts.length === 0) {
      if (tail.length > 0) o.onLine(tail);
      return;
    }
    parts.push(tail);
    const line = Buffer.concat(parts, partsBytes + tail.length);
    parts = [];
    partsBytes = 0;
    o.onLine(line);
  }

  function overflow(): void {
    const sample = Buffer.concat(parts).subarray(0, 4096);
    parts = [];
    partsBytes = 0;
    skipping = true;
    o.onOversized(sample);
  }

  return {
    push(chunk) {
      let start = 0;
      while (start < chunk.length) {
        const nl = chunk.indexOf(0x0a, start);
        if (nl === -1) {
          if (skipping) return;
          const rest = start === 0 ? chunk : chunk.subarray(start);
          parts.push(rest);
          partsBytes += rest.length;
          if (partsBytes > o.maxBytes) overflow();
          return;
        }
        if (skipping) skipping = false;
        else if (partsBytes + (nl - start) > o.maxBytes) {
          parts.push(chunk.subarray(start, nl));
          overflow();
          skipping = false;
        } else emit(chunk.subarray(start, nl));
        start = nl + 1;
      }
    },
    end() {
      if (!skipping && partsBytes > 0) emit(Buffer.alloc(0));
      parts = [];
      partsBytes = 0;
    },
    buffered: () => partsBytes,
    takePartial() {
      if (skipping || partsBytes === 0) return null;
      const line = Buffer.concat(parts, partsBytes);
      parts = [];
      partsBytes = 0;
      return line;
    },
  };
}
