import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../shared/fs/json-file.js';

let lastMs = 0;

/**
 * A batch the listener refused for good (4xx other than 408/429) is kept for inspection:
 * `forward-<ms>-<status>.ndjson` (the items as accepted, one per line) and
 * `forward-<ms>-<status>.response.json` (status and body). Both are whole or absent; only after
 * both are durable may the batch be acknowledged. Returns the .ndjson path.
 */
export async function quarantineBatch(dir: string, atMs: number, status: number, items: readonly Buffer[], body: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  lastMs = Math.max(atMs, lastMs + 1); // two refusals in one millisecond must not overwrite each other
  const base = join(dir, `forward-${lastMs}-${status}`);
  const tmp = `${base}.ndjson.tmp`;
  const fh = await open(tmp, 'w');
  try {
    const nl = Buffer.from('\n');
    const parts: Buffer[] = [];
    for (const item of items) parts.push(item, nl);
    await fh.writeFile(Buffer.concat(parts));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, `${base}.ndjson`);
  // Written last: its directory fsync also makes the rename above durable.
  await writeJsonAtomic(`${base}.response.json`, { status, body, items: items.length, at_ms: lastMs });
  return `${base}.ndjson`;
}
