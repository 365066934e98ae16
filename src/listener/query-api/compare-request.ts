import { extractRecord, type ProfileRecord } from '../extract/extract-record.js';
import { isObj, type Obj } from '../extract/fields.js';
import { percentile, percentileRank, round } from '../store/duration-buckets.js';
import type { Store, StoredRequest } from '../store/store.js';
import type { Comparison, Difference } from '../../shared/protocol/read-api.js';
import { viewPayload } from './payload-view.js';

/** How far back the endpoint baseline reaches, and how many earlier requests are opened to compare functions and queries. */
export const BASELINE_WINDOW_S = 24 * 3600;
export const BASELINE_SAMPLE = 50;
const TOP_DIFFERENCES = 10;

/** One request against its endpoint's baseline: how unusual it is and what it spent extra time on. */
export async function compareRequest(store: Store, row: StoredRequest, own: ProfileRecord | null, maxPayloadBytes: number): Promise<Comparison> {
  const window = { from: row.timestamp - BASELINE_WINDOW_S, to: row.timestamp + 60 };
  // Independent reads: at once, so a store across the network waits one round trip, not two.
  const [h, recent] = await Promise.all([store.endpointHistogram(row.project, row.endpoint, window), store.recentPayloads(row.project, row.endpoint, row.timestamp, row.id, BASELINE_SAMPLE)]);
  const p50 = percentile(h, 0.5);
  const sample: ProfileRecord[] = [];
  for (const body of recent) {
    const r = profileOf(body, maxPayloadBytes);
    if (r) sample.push(r);
  }
  return {
    endpoint: row.endpoint,
    window,
    baseline_count: h.total,
    percentile_rank: percentileRank(h, row.duration_ms),
    p50_ms: p50,
    p95_ms: percentile(h, 0.95),
    ratio_to_p50: p50 === null || p50 === 0 ? null : round(row.duration_ms / p50),
    functions: differences(
      own ? perKey(own.functions.map((f) => [f.name, f.wallMs])) : new Map(),
      sample.map((r) => perKey(r.functions.map((f) => [f.name, f.wallMs]))),
    ),
    queries: differences(
      own ? perKey(own.queries.map((q) => [q.fingerprint, q.ms ?? 0])) : new Map(),
      sample.map((r) => perKey(r.queries.map((q) => [q.fingerprint, q.ms ?? 0]))),
    ),
    sample_size: sample.length,
  };
}

/** The indexed fields of a stored payload; null when it is not a profile or too deep or large to open (payload-view.ts). */
export function profileOf(body: Buffer, maxPayloadBytes: number): ProfileRecord | null {
  const view = viewPayload(body, maxPayloadBytes);
  return view.kind === 'json' && isObj(view.value) ? profileFrom(view.value, body) : null;
}

export function profileFrom(value: Obj, body: Buffer): ProfileRecord | null {
  const r = extractRecord(value, body);
  return r.kind === 'profile' ? r : null;
}

function perKey(pairs: [string, number][]): Map<string, number> {
  const m = new Map<string, number>();
  for (const [k, v] of pairs) m.set(k, (m.get(k) ?? 0) + v);
  return m;
}

function differences(own: Map<string, number>, sample: Map<string, number>[]): Difference[] {
  const keys = new Set<string>(own.keys());
  for (const s of sample) for (const k of s.keys()) keys.add(k);
  const out: Difference[] = [];
  for (const key of keys) {
    const ms = own.get(key) ?? 0;
    const baseline = sample.length === 0 ? 0 : sample.reduce((sum, s) => sum + (s.get(key) ?? 0), 0) / sample.length;
    out.push({ key, ms: round(ms), baseline_ms: round(baseline), delta_ms: round(ms - baseline) });
  }
  return out.sort((a, b) => Math.abs(b.delta_ms) - Math.abs(a.delta_ms)).slice(0, TOP_DIFFERENCES);
}

export type { Comparison, Difference };
