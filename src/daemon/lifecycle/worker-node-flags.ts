/**
 * V8 flags the supervisor gives its worker unless the operator set them (issue 10). A young
 * generation capped at 2 MB per semi-space instead of V8's 16 MB: under the 16-sender flood of
 * `npm run bench -- --only daemon-cost` the worker's heap peaked at ~21 MB instead of ~43 MB
 * (16 MB of it live), the whole daemon's peak RSS fell by 25-35 MB and its PSS by ~30 MB, at no
 * CPU cost that the benchmark could resolve (docs/benchmarks.md, "V8 flags").
 */
const WORKER_DEFAULTS = ['--max-semi-space-size=2'];

/**
 * The worker's execArgv: the supervisor's own (fork's default) plus each default whose flag the
 * operator gave neither on the command line nor in NODE_OPTIONS (a command-line flag would
 * override theirs).
 */
export function workerExecArgv(parent: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...parent, ...(nodeOptions ?? '').split(/\s+/)].map(flagName);
  return [...parent, ...WORKER_DEFAULTS.filter((f) => !given.includes(flagName(f)))];
}

/** `--max_semi_space_size=4` and `--max-semi-space-size 4` name the same flag. */
function flagName(arg: string): string {
  return (arg.split('=')[0] as string).replace(/_/g, '-');
}
