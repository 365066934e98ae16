import { MAX_JSON_DEPTH, withinDepth } from '../../shared/protocol/json-limits.js';

export type OmittedReason = 'too_deep' | 'too_large';

export type PayloadView = { kind: 'json'; value: unknown } | { kind: 'text'; text: string } | { kind: 'omitted'; reason: OmittedReason; bytes: number };

/**
 * A stored payload as the read API may answer it. Ingest refuses what is too deep or too large
 * since issue 9, but a row stored before those limits (or written by another tool) can be
 * either: a 100,000-deep one made JSON.stringify overflow the stack (a 500), and a 64 MiB one
 * cost ~1 GB to parse and answer. Such a payload is not parsed; the detail names the reason and
 * GET /api/v1/requests/{id}/payload still returns its bytes.
 */
export function viewPayload(body: Buffer, maxBytes: number): PayloadView {
  if (body.length > maxBytes) return { kind: 'omitted', reason: 'too_large', bytes: body.length };
  if (!withinDepth(body, MAX_JSON_DEPTH)) return { kind: 'omitted', reason: 'too_deep', bytes: body.length };
  try {
    return { kind: 'json', value: JSON.parse(body.toString('utf8')) as unknown };
  } catch {
    return { kind: 'text', text: body.toString('utf8') };
  }
}

/** What the answer carries for a view: the parsed JSON, the text when it is not JSON, or null when left out. */
export function viewValue(view: PayloadView): unknown {
  return view.kind === 'json' ? view.value : view.kind === 'text' ? view.text : null;
}

/** `{<name>_omitted: {reason, bytes}}` when the view was left out, else nothing. */
export function omittedField(view: PayloadView, name: 'payload' | 'record'): Record<string, { reason: OmittedReason; bytes: number }> {
  return view.kind === 'omitted' ? { [`${name}_omitted`]: { reason: view.reason, bytes: view.bytes } } : {};
}
