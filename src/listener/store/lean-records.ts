import { extractRecord, type ProfileRecord } from '../extract/extract-record.js';
import { isObj } from '../extract/fields.js';
import { ENCODING_CODE, unpackPayload } from './payload-codec.js';

/**
 * Records prepared in a parse worker travel to the event loop without their query and function
 * lists: the batch's rollup (batch-rollup.ts) already holds those samples, and copying ~30 small
 * objects per profile between threads was a large share of the event loop's time and garbage.
 */
export function stripSamples(record: ProfileRecord): void {
  record.queries = [];
  record.functions = [];
}

/**
 * The query and function lists back, extracted again from the stored payload. Only needed when a
 * batch's precomputed rollup cannot be used as a whole (some lines were duplicates or not allowed),
 * which is rare, so paying a second parse there is fine.
 */
export function restoreSamples(record: ProfileRecord): ProfileRecord {
  const bytes = unpackPayload(ENCODING_CODE[record.bodyEncoding], record.body);
  const value: unknown = JSON.parse(bytes.toString('utf8'));
  if (!isObj(value)) return record;
  const again = extractRecord(value, bytes, () => record.timestamp * 1000);
  return again.kind === 'profile' ? { ...record, queries: again.queries, functions: again.functions } : record;
}
