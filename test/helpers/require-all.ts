/**
 * CI honesty: a test that cannot run here (no php, no php-fpm, no profiler extension) is skipped
 * with its reason on a developer's machine, but with BITVILLE_REQUIRE_ALL=1 (set by .ci/run) the
 * missing tool fails the run instead, so a green CI means every test ran.
 */
export function skipUnlessRequired(reason: string | false): string | false {
  if (reason !== false && process.env.BITVILLE_REQUIRE_ALL === '1') {
    throw new Error(`BITVILLE_REQUIRE_ALL=1, but this test cannot run: ${reason}`);
  }
  return reason;
}
