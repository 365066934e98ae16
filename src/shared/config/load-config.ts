import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { applyEnvOverrides, isPlain } from './env-overrides.js';
import { nearestKey } from './nearest-key.js';

import { ConfigError } from './config-error.js';

export { ConfigError };

export interface LoadOptions {
  /** YAML file; absent means defaults + environment + overrides. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Highest precedence, e.g. from CLI flags: a partial config object. */
  overrides?: Record<string, unknown>;
}

/**
 * Precedence, lowest first: schema defaults, the YAML file, BITVILLE_* environment, CLI overrides.
 * Returns a frozen, validated config or throws ConfigError listing every problem.
 */
export function loadConfig<S extends z.ZodType<Record<string, unknown>>>(schema: S, options: LoadOptions = {}): Readonly<z.infer<S>> {
  const problems: string[] = [];
  let fromFile: Record<string, unknown> = {};
  if (options.file) {
    try {
      const parsed: unknown = parseYaml(readFileSync(options.file, 'utf8'));
      if (parsed === null || parsed === undefined) fromFile = {};
      else if (isPlain(parsed)) fromFile = parsed;
      else problems.push(`${options.file}: expected a YAML mapping at the top level`);
    } catch (err) {
      problems.push(`${options.file}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const defaults = schema.parse({});
  const env = applyEnvOverrides(fromFile, defaults, options.env ?? process.env);
  for (const p of env.problems) problems.push(`${p.variable}=${JSON.stringify(p.value)}: expected ${p.expected}`);
  const merged = deepMerge(env.config, options.overrides ?? {});
  const result = schema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(...describeIssue(issue, merged, defaults));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze((result as { data: z.infer<S> }).data);
}

/**
 * One problem line per issue. An unknown key is named on its own with the nearest known key at
 * that level; its value is not shown, since at the top level that would be the whole file.
 */
function describeIssue(issue: z.core.$ZodIssue, merged: unknown, defaults: unknown): string[] {
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(asPlain(valueAt(defaults, issue.path)));
    return issue.keys.map((k) => {
      const key = [...issue.path, k].join('.');
      const near = nearestKey(k, known);
      const hint = near !== null ? `did you mean ${[...issue.path, near].join('.')}?` : `known keys here: ${known.join(', ')}`;
      return `${key}: unknown key (${hint})`;
    });
  }
  const key = issue.path.join('.') || '(top level)';
  const value = valueAt(merged, issue.path);
  return [`${key}${value === undefined ? '' : ` = ${JSON.stringify(value)}`}: ${issue.message}`];
}

function asPlain(v: unknown): Record<string, unknown> {
  return isPlain(v) ? v : {};
}

export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = isPlain(v) && isPlain(b) ? deepMerge(b, v) : v;
  }
  return out;
}

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let node = obj;
  for (const key of path) {
    if (!isPlain(node)) return undefined;
    node = node[key as string];
  }
  return node;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
