import { extractRecord, type ExtractedRecord } from '../extract/extract-record.js';
import { createRollupAggregator, type BatchRollup } from '../store/batch-rollup.js';
import { stripSamples } from '../store/lean-records.js';
import { packPayload } from '../store/payload-codec.js';
import { eachLine, type LineError } from './parse-lines.js';

export type PreparedLine = { kind: 'record'; line: number; record: ExtractedRecord } | { kind: 'rejected'; line: number; error: LineError };

export interface PreparedBody {
  lines: PreparedLine[];
  /** False when not one line was JSON: the body is not NDJSON at all (answered 400). */
  anyJson: boolean;
  /**
   * The rollup samples of every profile line, aggregated; the profile records then carry empty query
   * and function lists (lean-records.ts), which the store restores if it cannot use this whole.
   */
  rollup?: BatchRollup;
}

/**
 * Everything an NDJSON batch needs before the store sees it, none of which touches the database:
 * split, JSON.parse, field extraction and payload compression. Runs in a parse worker (parse-pool.ts),
 * so the event loop only runs the SQLite transaction.
 */
export function prepareLines(body: Buffer, as: 'auto' | 'activity' = 'auto', now: () => number = Date.now): PreparedBody {
  const rollup = createRollupAggregator();
  const lines: PreparedLine[] = [];
  const anyJson = eachLine(body, (l) => {
    if (l.kind === 'rejected') {
      lines.push(l);
      return;
    }
    const record = extractRecord(l.value, l.bytes, now, as);
    const packed = packPayload(record.body);
    record.body = packed.bytes;
    record.bodyEncoding = packed.encoding;
    if (record.kind === 'profile') {
      rollup.add(record);
      stripSamples(record);
    }
    lines.push({ kind: 'record', line: l.line, record });
  });
  return { lines, anyJson, rollup: rollup.result() };
}
