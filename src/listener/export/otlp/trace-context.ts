import { createHash } from 'node:crypto';
import type { TraceFields } from '../../extract/export-facts.js';

/** Where a profile's SERVER span sits: its trace, its own id, and the caller's span when one was propagated. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  /** The caller's span (W3C traceparent parent-id); null for a trace that starts here. */
  parentSpanId: string | null;
  /** W3C trace flags (bit 0 = sampled). */
  flags: number;
  traceState: string | null;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A valid W3C traceparent (https://www.w3.org/TR/trace-context/#traceparent-header), or null. */
export function parseTraceparent(value: string): { traceId: string; parentId: string; flags: number } | null {
  const m = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!m) return null;
  const [, version, traceId, parentId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return null;
  return { traceId, parentId, flags: parseInt(flags, 16) };
}

/**
 * The PHP client records `trace: {trace_id, span_id, flags, traceparent?, tracestate?}` (clients/php
 * README); older clients only keep request headers, where a `Traceparent` header still joins the
 * caller's trace (export-facts.ts reads both into TraceFields). Without either, the trace is named
 * after the correlation id (a UUID's 32 hex digits, else a hash), so exporting a profile twice gives
 * the same ids and backends de-duplicate.
 */
export function traceContext(fields: TraceFields, project: string, correlationId: string): TraceContext {
  const incoming = parseTraceparent(fields.traceparent ?? '');
  const recordedTrace = (fields.traceId ?? '').toLowerCase();
  const recordedSpan = (fields.spanId ?? '').toLowerCase();
  const traceId = incoming?.traceId ?? (HEX32.test(recordedTrace) && !/^0+$/.test(recordedTrace) ? recordedTrace : ownTraceId(project, correlationId));
  const spanId = HEX16.test(recordedSpan) && !/^0+$/.test(recordedSpan) ? recordedSpan : spanIds(traceId, correlationId)(0);
  const state = fields.tracestate;
  return { traceId, spanId, parentSpanId: incoming?.parentId ?? null, flags: incoming?.flags ?? 1, traceState: incoming && state ? state.slice(0, 512) : null };
}

function ownTraceId(project: string, correlationId: string): string {
  if (UUID.test(correlationId)) {
    const hex = correlationId.replaceAll('-', '').toLowerCase();
    if (!/^0+$/.test(hex)) return hex;
  }
  return createHash('sha256').update(`${project}\0${correlationId}`).digest('hex').slice(0, 32);
}

/**
 * Stable span ids for the spans the listener makes up (request, SQL, functions): one hash per
 * profile gives a 64-bit base, span n is base + n. Same profile, same ids (a resent trace
 * de-duplicates at the backend); distinct within the trace; one hash instead of one per span.
 */
export function spanIds(traceId: string, correlationId: string): (n: number) => string {
  const base = createHash('sha256').update(`${traceId}\0${correlationId}`).digest();
  const hi = base.readUInt32BE(0);
  const lo = base.readUInt32BE(4);
  const hiHex = hex8(hi); // the same for every span of the trace unless the low half wraps
  return (n) => {
    const l = (lo + n) >>> 0;
    const carry = Math.floor((lo + n) / 0x1_0000_0000);
    const id = (carry === 0 ? hiHex : hex8((hi + carry) >>> 0)) + hex8(l);
    return id === '0000000000000000' ? '0000000000000001' : id;
  };
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
