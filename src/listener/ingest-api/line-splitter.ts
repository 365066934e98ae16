const NL = 0x0a;

export interface LineSplitter {
  /** Bytes in arrival order; complete lines are handed to `onLine` at once. */
  push(chunk: Buffer): void;
  /** The last line (without a trailing newline) is a line too. */
  end(): void;
}

/**
 * Cuts a byte stream (a whole body, or gunzip output chunk by chunk) into lines, numbered from 1;
 * an empty segment is still handed on, so line numbers stay positions in the body. A line longer
 * than `maxLineBytes` is never assembled: once it passes the limit its bytes are dropped as they
 * arrive and `onLine(null, n)` reports it when its newline comes. So a gzip body that inflates to
 * one 64 MiB line costs at most `maxLineBytes` of memory, not 64 MiB (issue 9). A line that fits
 * in one chunk is a view on that chunk, not a copy.
 */
export function createLineSplitter(maxLineBytes: number, onLine: (line: Buffer | null, lineNo: number) => void): LineSplitter {
  let pieces: Buffer[] = [];
  let held = 0;
  let oversized = false;
  let lineNo = 0;

  function finish(last: Buffer): void {
    lineNo++;
    if (oversized || held + last.length > maxLineBytes) onLine(null, lineNo);
    else if (pieces.length === 0) onLine(last, lineNo);
    else onLine(Buffer.concat([...pieces, last], held + last.length), lineNo);
    pieces = [];
    held = 0;
    oversized = false;
  }

  return {
    push(chunk) {
      let start = 0;
      for (let nl = chunk.indexOf(NL); nl >= 0; nl = chunk.indexOf(NL, start)) {
        finish(chunk.subarray(start, nl));
        start = nl + 1;
      }
      if (start >= chunk.length || oversized) return;
      const rest = chunk.subarray(start);
      if (held + rest.length > maxLineBytes) {
        oversized = true;
        pieces = [];
        held = 0;
        return;
      }
      pieces.push(rest);
      held += rest.length;
    },
    end() {
      if (oversized || held > 0) finish(Buffer.alloc(0));
    },
  };
}
