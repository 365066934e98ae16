import type { FactLimits } from '../extract/export-facts.js';
import { extractRecord, type ExtractedRecord } from '../extract/extract-record.js';
import { createRollupAggregator, type BatchRollup } from '../store/batch-rollup.js';
import { stripSamples } from '../store/lean-records.js';
import { packPayload } from '../store/payload-codec.js';
import { inflateLines, type InflateOutcome } from './inflate-lines.js';
import { createLineParser, eachLine, type LineError, type ParsedLine } from './parse-lines.js';

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

export interface PrepareLineOptions {
  as?: 'auto' | 'activity';
  /** A line longer than this is rejected as `line_too_large` without being parsed. */
  maxLineBytes?: number;
  now?: () => number;
  /** Keep export facts with these limits (an OTLP exporter is configured); null/absent = none. */
  facts?: FactLimits | null;
}

/**
 * Everything an NDJSON batch needs before the store sees it, none of which touches the database:
 * split, JSON.parse, field extraction and payload compression. Runs in a parse worker (parse-pool.ts),
 * so the event loop only runs the SQLite transaction.
 */
export function prepareLines(body: Buffer, o: PrepareLineOptions = {}): PreparedBody {
  const p = createPreparer(o);
  const anyJson = eachLine(body, p.add, o.maxLineBytes);
  return p.result(anyJson);
}

/** prepareLines for a gzip body, inflated as a stream (inflate-lines.ts) and prepared line by line. */
export async function prepareGzipLines(raw: Buffer, maxBodyBytes: number, o: PrepareLineOptions = {}): Promise<Exclude<InflateOutcome, { kind: 'ok' }> | { kind: 'ok'; prepared: PreparedBody }> {
  const p = createPreparer(o);
  const parser = createLineParser(p.add);
  const inflated = await inflateLines(raw, maxBodyBytes, o.maxLineBytes ?? Infinity, parser.line);
  return inflated.kind === 'ok' ? { kind: 'ok', prepared: p.result(parser.anyJson()) } : inflated;
}

function createPreparer(o: PrepareLineOptions): { add(l: ParsedLine): void; result(anyJson: boolean): PreparedBody } {
  const rollup = createRollupAggregator();
  const lines: PreparedLine[] = [];
  const as = o.as ?? 'auto';
  const now = o.now ?? Date.now;
  const facts = o.facts ?? null;
  return {
    add(l) {
      if (l.kind === 'rejected') {
        lines.push(l);
        return;
      }
      const record = extractRecord(l.value, l.bytes, now, as, facts);
      const packed = packPayload(record.body);
      // A line that is a view on a larger gunzip chunk would keep the whole chunk alive: copy the small ones.
      record.body = packed.encoding === 'identity' && packed.bytes.byteLength !== packed.bytes.buffer.byteLength ? Buffer.from(packed.bytes) : packed.bytes;
      record.bodyEncoding = packed.encoding;
      if (record.kind === 'profile') {
        rollup.add(record);
        stripSamples(record);
      }
      lines.push({ kind: 'record', line: l.line, record });
    },
    result: (anyJson) => ({ lines, anyJson, rollup: rollup.result() }),
  };
}
