import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Small JSON state written so a crash leaves the old file or the new one, never a torn one:
 * temp file in the same dir, fsync, rename, fsync the dir (DESIGN section 4). The one helper for
 * every small state file (breaker state, daemon.json, quarantine answers).
 */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`; // same dir, so the rename is atomic
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify(value, null, 2) + '\n');
    await fh.sync(); // the bytes must be durable before the name points at them
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync(); // makes the rename itself survive power loss
  } finally {
    await dir.close();
  }
}

/** The parsed file, `missing`, or `corrupt` (unreadable JSON); the caller validates the shape. */
export async function readJson(path: string): Promise<{ kind: 'found'; value: unknown } | { kind: 'missing' } | { kind: 'corrupt'; error: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'corrupt', error: (err as Error).message };
  }
  try {
    return { kind: 'found', value: JSON.parse(text) as unknown };
  } catch (err) {
    return { kind: 'corrupt', error: (err as Error).message };
  }
}
