/**
 * Full jitter (AWS architecture blog), as the daemon's forwarder waits: a uniform wait in
 * [0, min(cap, base * 2^attempt)). `attempt` counts failures before this one, from 0.
 */
export function fullJitterMs(attempt: number, o: { baseMs: number; capMs: number }, random: () => number = Math.random): number {
  const ceiling = Math.min(o.capMs, o.baseMs * 2 ** Math.min(Math.max(attempt, 0), 52));
  return Math.floor(random() * ceiling);
}
