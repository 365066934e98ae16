/**
 * `BITVILLE_SECTION_KEY` environment overrides (DESIGN section 8), applied in this one place.
 * The table is derived from the schema's defaults, so every key is overridable and no table
 * can drift from the schema. Values are read with the type of the default they replace.
 */
type Plain = Record<string, unknown>;

/** Keys whose value is an object as a whole (a map), set from JSON rather than key by key. */
const WHOLE_OBJECT_KEYS = new Set(['tokens', 'headers']);

export function envName(path: readonly string[]): string {
  return ['BITVILLE', ...path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2'))].join('_').toUpperCase();
}

export interface EnvProblem {
  variable: string;
  value: string;
  expected: string;
}

export function applyEnvOverrides(
  fileConfig: Plain,
  defaults: Plain,
  env: NodeJS.ProcessEnv,
): { config: Plain; problems: EnvProblem[] } {
  const problems: EnvProblem[] = [];
  const config = structuredClone(fileConfig);
  walk(defaults, []);
  return { config, problems };

  function walk(node: Plain, path: string[]): void {
    for (const [key, def] of Object.entries(node)) {
      const here = [...path, key];
      if (isPlain(def) && !WHOLE_OBJECT_KEYS.has(key)) {
        walk(def, here);
        continue;
      }
      const variable = envName(here);
      const raw = env[variable];
      if (raw === undefined) continue;
      const parsed = readAs(def, raw);
      if (parsed.ok) setPath(config, here, parsed.value);
      else problems.push({ variable, value: raw, expected: parsed.expected });
    }
  }
}

function readAs(def: unknown, raw: string): { ok: true; value: unknown } | { ok: false; expected: string } {
  if (typeof def === 'number') {
    const n = Number(raw);
    return raw.trim() !== '' && Number.isFinite(n) ? { ok: true, value: n } : { ok: false, expected: 'a number' };
  }
  if (typeof def === 'boolean') {
    if (raw === 'true' || raw === '1') return { ok: true, value: true };
    if (raw === 'false' || raw === '0') return { ok: true, value: false };
    return { ok: false, expected: 'true or false' };
  }
  if (isPlain(def) || Array.isArray(def)) {
    try {
      return { ok: true, value: JSON.parse(raw) as unknown };
    } catch {
      return { ok: false, expected: 'JSON' };
    }
  }
  if (def === null && (raw === '' || raw === 'null')) return { ok: true, value: null };
  return { ok: true, value: raw };
}

function setPath(target: Plain, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!isPlain(next)) node[key] = {};
    node = node[key] as Plain;
  }
  node[path[path.length - 1] as string] = value;
}

export function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
