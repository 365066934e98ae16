// Reads what the request payload carries (any of the shapes docs/listener.md lists) for the
// request-detail page: SQL queries with their times, XHProf functions, call edges or stacks.
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export interface QuerySpan {
  sql: string;
  ms: number;
  /** Start relative to the request start, ms, when the payload says; else null (placed in sequence). */
  offsetMs: number | null;
}

export function queriesOf(payload: unknown): QuerySpan[] {
  const p = obj(payload);
  const sql = p.sql;
  const list = Array.isArray(sql) ? sql : obj(sql).queries;
  if (!Array.isArray(list)) return [];
  const start = requestStart(p);
  const out: QuerySpan[] = [];
  for (const q of list) {
    if (!isObj(q)) continue;
    const text = str(q.sql) ?? str(q.query) ?? str(q.statement) ?? '';
    const ms = num(q.time_ms) ?? num(q.duration_ms) ?? num(q.elapsed_ms) ?? 0;
    let offsetMs = num(q.offset_ms) ?? num(q.start_offset_ms) ?? num(q.start_ms);
    const startedAt = num(q.start_time) ?? num(q.started_at) ?? num(q.timestamp);
    if (offsetMs === null && startedAt !== null && start !== null) offsetMs = (startedAt - start) * 1000;
    out.push({ sql: text, ms, offsetMs: offsetMs !== null && offsetMs >= 0 ? offsetMs : null });
  }
  return out;
}

function requestStart(p: Obj): number | null {
  return num(obj(p.timing).start_time) ?? num(obj(p.timing).request_time_float) ?? num(obj(p.request).timestamp);
}

export interface FunctionRow {
  name: string;
  calls: number | null;
  inclusiveMs: number;
  exclusiveMs: number | null;
}

export type Edges = Map<string, Map<string, { calls: number; wtUs: number }>>;

/** A raw XHProf map `parent==>child: {ct, wt}` wherever agents put it, as parent -> child -> edge. */
export function edgesOf(payload: unknown): Edges | null {
  const x = obj(obj(payload).xhprof);
  // Same places and test as the listener's extraction: a map with at least one `a==>b` edge.
  for (const cand of [x.data, x.raw, x.profile, x]) {
    if (!isObj(cand) || !Object.keys(cand).some((k) => k.includes('==>'))) continue;
    const edges: Edges = new Map();
    let found = 0;
    for (const [k, v] of Object.entries(cand)) {
      if (!isObj(v)) continue;
      const wt = num(v.wt);
      if (wt === null) continue;
      const i = k.indexOf('==>');
      const parent = i < 0 ? '' : k.slice(0, i);
      const child = i < 0 ? k : k.slice(i + 3);
      let m = edges.get(parent);
      if (!m) edges.set(parent, (m = new Map()));
      m.set(child, { calls: num(v.ct) ?? 1, wtUs: wt });
      found++;
    }
    if (found > 0) return edges;
  }
  return null;
}

export function functionsOf(payload: unknown): FunctionRow[] {
  const edges = edgesOf(payload);
  if (edges) {
    const incl = new Map<string, { us: number; calls: number }>();
    const out = new Map<string, number>();
    for (const [parent, children] of edges) {
      for (const [child, e] of children) {
        const a = incl.get(child) ?? { us: 0, calls: 0 };
        a.us += e.wtUs;
        a.calls += e.calls;
        incl.set(child, a);
        if (parent) out.set(parent, (out.get(parent) ?? 0) + e.wtUs);
      }
    }
    return [...incl.entries()]
      .map(([name, a]) => ({ name, calls: a.calls, inclusiveMs: a.us / 1000, exclusiveMs: Math.max(0, a.us - (out.get(name) ?? 0)) / 1000 }))
      .sort((a, b) => b.inclusiveMs - a.inclusiveMs);
  }
  const x = obj(obj(payload).xhprof);
  const list = obj(x.profiling).top_functions ?? x.top_functions;
  if (!Array.isArray(list)) return [];
  const rows: FunctionRow[] = [];
  for (const f of list) {
    if (!isObj(f)) continue;
    const name = str(f.name) ?? str(f.function);
    const us = num(f.wall_time_us);
    const inclusiveMs = num(f.wall_time_ms) ?? (us === null ? null : us / 1000);
    if (name === null || inclusiveMs === null) continue;
    const selfUs = num(f.self_wall_time_us);
    const exclusiveMs = num(f.self_wall_time_ms) ?? (selfUs === null ? null : selfUs / 1000);
    rows.push({ name, calls: num(f.calls), inclusiveMs, exclusiveMs });
  }
  return rows.sort((a, b) => b.inclusiveMs - a.inclusiveMs);
}

/** Sampled stacks in folded form ("main;a;b 12" lines or [{stack, count}]), if the payload has them. */
export function foldedStacksOf(payload: unknown): [string[], number][] | null {
  const p = obj(payload);
  const x = obj(p.xhprof);
  const raw = x.stacks ?? x.samples ?? p.stacks ?? obj(p.profile).folded;
  const lines: [string[], number][] = [];
  const add = (stack: string, n: number) => {
    const frames = stack.split(';').filter((f) => f !== '');
    if (frames.length > 0 && n > 0) lines.push([frames, n]);
  };
  if (typeof raw === 'string') {
    for (const line of raw.split('\n')) {
      const m = /^(.*)\s+(\d+(?:\.\d+)?)$/.exec(line.trim());
      if (m) add(m[1] ?? '', Number(m[2]));
    }
  } else if (Array.isArray(raw)) {
    for (const s of raw) {
      if (typeof s === 'string') {
        const m = /^(.*)\s+(\d+(?:\.\d+)?)$/.exec(s.trim());
        if (m) add(m[1] ?? '', Number(m[2]));
      } else if (isObj(s)) {
        const stack = Array.isArray(s.stack) ? s.stack.filter((f): f is string => typeof f === 'string').join(';') : str(s.stack);
        if (stack) add(stack, num(s.count) ?? num(s.weight) ?? 1);
      }
    }
  }
  return lines.length > 0 ? lines : null;
}
