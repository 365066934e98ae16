import type { FactLimits } from '../extract/export-facts.js';
import { extractRecord, type ExtractedRecord } from '../extract/extract-record.js';
import type { ListenerMetrics } from '../metrics.js';
import type { BatchRollup } from '../store/batch-rollup.js';
import type { InsertResult, Store } from '../store/store.js';
import { canAccess, type Principal } from './auth.js';
import type { LineError, ParsedLine } from './parse-lines.js';
import type { PreparedLine } from './prepare-lines.js';

export interface LineRejection {
  line: number;
  error: LineError;
}

export type IngestOutcome =
  | {
      kind: 'stored';
      accepted: number;
      duplicates: number;
      rejected: LineRejection[];
      /** Per stored line, in order: row id and whether it was new. */
      results: { line: number; record: ExtractedRecord; result: InsertResult }[];
    }
  | { kind: 'unavailable'; error: unknown };

export interface IngestCounters {
  accepted: number;
  duplicates: number;
  rejected: number;
  batches: number;
  storeFailures: number;
  lastBatchAt: number | null;
}

export interface IngestService {
  /** `as: 'activity'` stores every line as database activity (the /ingest/postgres route). */
  ingest(principal: Principal, lines: readonly ParsedLine[], as?: 'auto' | 'activity'): Promise<IngestOutcome>;
  /**
   * Lines a parse worker already extracted (prepare-lines.ts); same answer as `ingest`. `rollup` is
   * the body's PreparedBody.rollup when its profile records are lean.
   */
  ingestPrepared(principal: Principal, lines: readonly PreparedLine[], rollup?: BatchRollup): Promise<IngestOutcome>;
  counters(): Readonly<IngestCounters>;
}

/**
 * One path for every ingest route (NDJSON batches, single-object compatibility endpoints, UDP):
 * reject per line what cannot be stored, store the rest in one transaction, count everything.
 * `facts`: keep export facts for the OTLP exporter (lines extracted here, e.g. UDP).
 */
export function createIngestService(store: Store, metrics: ListenerMetrics, now: () => number = Date.now, facts: FactLimits | null = null): IngestService {
  const c: IngestCounters = { accepted: 0, duplicates: 0, rejected: 0, batches: 0, storeFailures: 0, lastBatchAt: null };
  async function ingestPrepared(principal: Principal, lines: readonly PreparedLine[], rollup?: BatchRollup): Promise<IngestOutcome> {
    const rejected: LineRejection[] = [];
    const records: { line: number; record: ExtractedRecord }[] = [];
    for (const l of lines) {
      if (l.kind === 'rejected') rejected.push({ line: l.line, error: l.error });
      else if (!canAccess(principal, l.record.project)) rejected.push({ line: l.line, error: 'project_not_allowed' });
      else records.push({ line: l.line, record: l.record });
    }
    for (const r of rejected) metrics.rejected.inc({ error_code: r.error });
    c.rejected += rejected.length;
    let results: InsertResult[] = [];
    if (records.length > 0) {
      try {
        results = await store.insertBatch(
          records.map((r) => r.record),
          rollup,
        );
      } catch (error) {
        c.storeFailures++;
        metrics.storeErrors.inc({ operation: 'insert' });
        return { kind: 'unavailable', error };
      }
    }
    let accepted = 0;
    let duplicates = 0;
    let acceptedProfiles = 0;
    const out: { line: number; record: ExtractedRecord; result: InsertResult }[] = [];
    results.forEach((result, i) => {
      const r = records[i];
      if (!r) return;
      if (result.kind === 'accepted') {
        accepted++;
        if (r.record.kind === 'profile') acceptedProfiles++;
      } else duplicates++;
      out.push({ line: r.line, record: r.record, result });
    });
    if (acceptedProfiles > 0) metrics.accepted.inc({ kind: 'profile' }, acceptedProfiles); // one call per kind, not per line
    if (accepted > acceptedProfiles) metrics.accepted.inc({ kind: 'activity' }, accepted - acceptedProfiles);
    metrics.duplicates.inc(duplicates);
    c.accepted += accepted;
    c.duplicates += duplicates;
    c.batches++;
    c.lastBatchAt = now() / 1000;
    return { kind: 'stored', accepted, duplicates, rejected, results: out };
  }

  return {
    async ingest(principal, lines, as = 'auto') {
      return ingestPrepared(
        principal,
        lines.map((l): PreparedLine => (l.kind === 'rejected' ? l : { kind: 'record', line: l.line, record: extractRecord(l.value, l.bytes, now, as, facts) })),
      );
    },
    ingestPrepared,
    counters: () => ({ ...c }),
  };
}
