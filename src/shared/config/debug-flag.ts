/**
 * Whether a person asked for details (stack traces) on fatal errors: `--debug` anywhere on the
 * command line or `BITVILLE_DEBUG=1`. Read here because only config/ reads the environment.
 */
export function debugRequested(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): boolean {
  return argv.includes('--debug') || env.BITVILLE_DEBUG === '1' || env.BITVILLE_DEBUG === 'true';
}
