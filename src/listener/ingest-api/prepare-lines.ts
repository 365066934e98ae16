import { extractRecord, type ExtractedRecord } from '../extract/extract-record.js';
import { packPayload } from '../store/payload-codec.js';
import { parseLines, type LineError } from './parse-lines.js';

export type PreparedLine = { kind: 'record'; line: number; record: ExtractedRecord } | { kind: 'rejected'; line: number; error: LineError };

export interface PreparedBody {
  lines: PreparedLine[];
  /** False when not one line was JSON: the body is not NDJSON at all (answered 400). */
  anyJson: boolean;
}

/**
 * Everything an NDJSON batch needs before the store sees it, none of which touches the database:
 * split, JSON.parse, field extraction and payload compression. Runs in a parse worker (parse-pool.ts),
 * so the event loop only runs the SQLite transaction.
 */
export function prepareLines(body: Buffer, as: 'auto' | 'activity' = 'auto', now: () => number = Date.now): PreparedBody {
  const parsed = parseLines(body);
  const lines: PreparedLine[] = parsed.lines.map((l) => {
    if (l.kind === 'rejected') return l;
    const record = extractRecord(l.value, l.bytes, now, as);
    const packed = packPayload(record.body);
    record.body = packed.bytes;
    record.bodyEncoding = packed.encoding;
    return { kind: 'record', line: l.line, record };
  });
  return { lines, anyJson: parsed.anyJson };
}
