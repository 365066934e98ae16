export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
  if (v >= 10) return `${Math.round(v)} ms`;
  return `${v.toFixed(1)} ms`;
}

export function count(v: number): string {
  return v.toLocaleString('en-US');
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)} %`;
}

export function time(unixS: number): string {
  const d = new Date(unixS * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function hhmm(unixS: number): string {
  const d = new Date(unixS * 1000);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** Window presets of the overview and endpoint views, in seconds, with the series step each uses. */
export const WINDOWS: Record<string, { seconds: number; step: number }> = {
  '15m': { seconds: 900, step: 60 },
  '1h': { seconds: 3600, step: 60 },
  '6h': { seconds: 6 * 3600, step: 60 },
  '24h': { seconds: 24 * 3600, step: 60 },
  '7d': { seconds: 7 * 24 * 3600, step: 600 },
};

/** The window named in the URL: explicit from/to win, else a preset ending now (rounded to the minute). */
export function windowFrom(params: URLSearchParams): { from: number; to: number; step: number; label: string } {
  const from = Number(params.get('from'));
  const to = Number(params.get('to'));
  if (from > 0 && to > from) return { from, to, step: to - from > 2 * 86400 ? 600 : 60, label: 'custom' };
  const name = params.get('window') ?? '1h';
  const w = WINDOWS[name] ?? { seconds: 3600, step: 60 };
  const end = Math.ceil(Date.now() / 60_000) * 60;
  return { from: end - w.seconds, to: end, step: w.step, label: WINDOWS[name] ? name : '1h' };
}

/** Builds "/path?k=v" keeping only set values. */
export function href(path: string, params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
