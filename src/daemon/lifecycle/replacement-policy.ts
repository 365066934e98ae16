export interface ReplacementLimits {
  /** lifecycle.maxMemoryMb: replace above this RSS. */
  maxMemoryMb: number;
  /** lifecycle.maxRequests: replace after this many messages; 0 = never. */
  maxRequests: number;
  /** A worker younger than this is not replaced for its RSS, so a limit below a fresh worker's RSS cannot loop. */
  minLifetimeMs: number;
}

export type ReplacementReason = 'max_memory' | 'max_requests';

/** Whether a worker that reported `rssBytes` and `requestCount` at age `ageMs` must be replaced. */
export function replacementReason(limits: ReplacementLimits, rssBytes: number, requestCount: number, ageMs: number): ReplacementReason | null {
  if (limits.maxRequests > 0 && requestCount >= limits.maxRequests) return 'max_requests';
  if (ageMs >= limits.minLifetimeMs && rssBytes > limits.maxMemoryMb * 1024 * 1024) return 'max_memory';
  return null;
}
