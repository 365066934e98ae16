import { mkdir, readdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface QuarantineOptions {
  dir: string;
  /** Most sample files kept; the oldest go first. */
  maxFiles?: number;
  /** Bytes kept of each rejected message. */
  maxSampleBytes?: number;
  /** At most one sample per reason per this many ms, so a garbage flood costs no disk I/O. */
  minIntervalMs?: number;
  now?: () => number;
}

export interface Quarantine {
  /** Keeps a bounded sample of a rejected message for inspection. Best effort, never throws. False if rate-limited. */
  sample(reason: string, bytes: Buffer): boolean;
  start(): Promise<void>;
}

export function createQuarantine(o: QuarantineOptions): Quarantine {
  const maxFiles = o.maxFiles ?? 100;
  const maxSampleBytes = o.maxSampleBytes ?? 4096;
  const minIntervalMs = o.minIntervalMs ?? 1_000;
  const now = o.now ?? Date.now;
  const files: string[] = [];
  const lastAt = new Map<string, number>();
  let counter = 0;

  return {
    async start() {
      await mkdir(o.dir, { recursive: true });
      files.push(...(await readdir(o.dir)).filter((f) => f.startsWith('reject-')).sort());
    },
    sample(reason, bytes) {
      const t = now();
      if (t - (lastAt.get(reason) ?? -Infinity) < minIntervalMs) return false;
      lastAt.set(reason, t);
      const name = `reject-${String(t).padStart(13, '0')}-${String(counter++ % 1e6).padStart(6, '0')}-${reason}.bin`;
      files.push(name);
      const evicted = files.length > maxFiles ? files.splice(0, files.length - maxFiles) : [];
      void (async () => {
        await writeFile(join(o.dir, name), bytes.subarray(0, maxSampleBytes));
        for (const old of evicted) await unlink(join(o.dir, old)).catch(() => undefined);
      })().catch(() => undefined); // a sample is a courtesy; failing to write one must not matter
      return true;
    },
  };
}
