import { isObj, num, obj, str, type Obj } from './fields.js';

export interface FunctionSample {
  name: string;
  /** Inclusive wall time in this request, ms. */
  wallMs: number;
  /** Exclusive (self) wall time, ms; null when the payload does not say. */
  selfMs: number | null;
  calls: number;
}

/** Functions kept per request: the most expensive ones carry the signal, the long tail costs rows. */
export const MAX_FUNCTIONS_PER_REQUEST = 50;

/**
 * Functions from XHProf data in either shape existing agents send:
 * - summarised: `xhprof.profiling.top_functions: [{name, calls, wall_time_ms | wall_time_us}]`
 * - raw: a `parent==>child: {ct, wt}` map (wt in microseconds), at `xhprof`, `xhprof.data`,
 *   `xhprof.raw` or `xhprof.profile`; inclusive time is the sum over edges into a function and
 *   self time is inclusive minus the edges out of it.
 */
export function xhprofFunctions(xhprof: unknown): FunctionSample[] {
  if (!isObj(xhprof)) return [];
  const raw = findRawMap(xhprof);
  const out = raw ? fromRawMap(raw) : fromTopFunctions(obj(xhprof.profiling).top_functions ?? xhprof.top_functions);
  out.sort((a, b) => b.wallMs - a.wallMs);
  return out.length > MAX_FUNCTIONS_PER_REQUEST ? out.slice(0, MAX_FUNCTIONS_PER_REQUEST) : out;
}

function fromTopFunctions(list: unknown): FunctionSample[] {
  if (!Array.isArray(list)) return [];
  const out: FunctionSample[] = [];
  for (const item of list) {
    if (!isObj(item)) continue;
    const name = str(item.name) ?? str(item.function) ?? str(item.fn);
    if (name === null) continue;
    const us = num(item.wall_time_us) ?? num(item.wt);
    const wallMs = num(item.wall_time_ms) ?? (us === null ? null : us / 1000);
    if (wallMs === null) continue;
    const selfUs = num(item.self_wall_time_us) ?? num(item.excl_wt);
    const selfMs = num(item.self_wall_time_ms) ?? num(item.self_time_ms) ?? (selfUs === null ? null : selfUs / 1000);
    out.push({ name, wallMs, selfMs, calls: num(item.calls) ?? num(item.ct) ?? 1 });
  }
  return out;
}

function findRawMap(xhprof: Obj): Obj | null {
  for (const candidate of [xhprof.data, xhprof.raw, xhprof.profile, xhprof]) {
    if (!isObj(candidate)) continue;
    for (const [key, value] of Object.entries(candidate)) {
      if (key.includes('==>') && isObj(value) && num(value.wt) !== null) return candidate;
    }
  }
  return null;
}

function fromRawMap(map: Obj): FunctionSample[] {
  const inclusive = new Map<string, { wt: number; ct: number }>();
  const childrenWt = new Map<string, number>();
  for (const [key, value] of Object.entries(map)) {
    if (!isObj(value)) continue;
    const wt = num(value.wt);
    if (wt === null) continue;
    const arrow = key.indexOf('==>');
    const child = arrow < 0 ? key : key.slice(arrow + 3);
    const parent = arrow < 0 ? null : key.slice(0, arrow);
    const entry = inclusive.get(child) ?? { wt: 0, ct: 0 };
    entry.wt += wt;
    entry.ct += num(value.ct) ?? 1;
    inclusive.set(child, entry);
    if (parent !== null) childrenWt.set(parent, (childrenWt.get(parent) ?? 0) + wt);
  }
  const out: FunctionSample[] = [];
  for (const [name, { wt, ct }] of inclusive) {
    const self = Math.max(0, wt - (childrenWt.get(name) ?? 0));
    out.push({ name, wallMs: wt / 1000, selfMs: self / 1000, calls: ct });
  }
  return out;
}
