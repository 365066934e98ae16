/**
 * V8 flags the supervisor gives its worker unless the operator set them (issue 10), each measured
 * under the flood of `npm run bench -- --only daemon-cost` (docs/benchmarks.md, "V8 flags"):
 * - a young generation capped at 2 MB per semi-space instead of V8's 16 MB: the worker's heap
 *   peaked at ~21 MB instead of ~43 MB, the whole daemon's peak RSS fell by 25-35 MB, at no CPU
 *   cost the benchmark could resolve;
 * - an old generation that starts at 24 MB: V8 otherwise starts it near the ~7 MB the worker
 *   keeps live and ran a full mark-compact every ~200 ms under load (19 per 20,000 profiles in
 *   durable mode); CPU per message fell 2-14 %, peak RSS did not rise (48 MB cost 10-20 MB).
 * - an old generation capped at 512 MB instead of V8's share of the machine's memory (~4 GB on
 *   the 24 GB benchmark machine): V8 paces its full collections by that cap, and with it the
 *   profile buffers that outlive a scavenge (the memory queue, the batch in flight) are freed
 *   sooner: array buffers peaked at 22-27 MB instead of 31-40 MB and the one-process daemon's
 *   peak RSS fell 8-12 MB under the flood, for ~3-9 % more CPU per message. 512 is twice
 *   lifecycle.maxMemoryMb's default, so the graceful replacement always comes before V8's
 *   out-of-memory abort (the pipeline warns when the limit is below maxMemoryMb).
 * The systemd unit gives the same flags to the daemon itself (BITVILLE_APM_NODE_FLAGS): under
 * socket activation it is its own worker.
 */
export const WORKER_DEFAULTS: readonly string[] = ['--max-semi-space-size=2', '--initial-old-space-size=24', '--max-old-space-size=512'];

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
