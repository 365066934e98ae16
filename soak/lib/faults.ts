import { open, unlink } from 'node:fs/promises';

export type FaultKind = 'daemon_sigterm' | 'daemon_sigkill' | 'daemon_sighup' | 'worker_sigkill' | 'listener_sigkill' | 'disk_full';
export const FAULT_KINDS: readonly FaultKind[] = ['daemon_sigterm', 'daemon_sigkill', 'daemon_sighup', 'worker_sigkill', 'listener_sigkill', 'disk_full'];

/**
 * Fills the filesystem of `path` with a ballast file until the disk is full (ENOSPC), so the
 * daemon meets a really full disk; returns the function that frees it again.
 */
export async function fillDisk(path: string): Promise<() => Promise<void>> {
  const fh = await open(path, 'w');
  const chunk = Buffer.alloc(1024 * 1024, 0x62);
  try {
    for (;;) await fh.write(chunk);
  } catch {
    // ENOSPC: full
  }
  try {
    const small = Buffer.alloc(4096, 0x62);
    for (;;) await fh.write(small); // the last partial megabyte too
  } catch {
    // full to the byte
  }
  await fh.close();
  return () => unlink(path).catch(() => undefined);
}

/** A repeatable order of faults: every kind in turn, shuffled per round with a seeded generator. */
export function faultSchedule(seed: number): () => FaultKind {
  let x = seed >>> 0 || 1;
  const random = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  let round: FaultKind[] = [];
  return () => {
    if (round.length === 0) {
      round = [...FAULT_KINDS];
      for (let i = round.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [round[i], round[j]] = [round[j] as FaultKind, round[i] as FaultKind];
      }
    }
    return round.pop() as FaultKind;
  };
}
