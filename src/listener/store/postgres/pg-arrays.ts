/**
 * Array literals for the batch statements' array parameters (`$1::text[]`), built here instead of
 * by node-postgres: it turns every element into a string and runs two regular expressions over it
 * to escape it, which for a 500-profile batch's ~1,200 rollup cells × 13 columns was ~12 µs of
 * listener CPU per profile (docs/benchmarks.md, issue 12 second round).
 */

/** `{1,2.5,-3}`: numbers need no quoting (NaN and Infinity are valid float8 input too). */
export function numberArray(xs: readonly number[]): string {
  return `{${xs.join(',')}}`;
}

/** Every element quoted; `\` and `"` escaped only in the rare element that has one. */
export function textArray(xs: readonly string[]): string {
  let s = '{';
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] as string;
    if (i > 0) s += ',';
    s += x.includes('\\') || x.includes('"') ? `"${x.replace(/[\\"]/g, '\\$&')}"` : `"${x}"`;
  }
  return `${s}}`;
}
