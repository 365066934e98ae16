import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_SUFFIX } from './segment-name.js';

const NL = Buffer.from('\n');

/** Items interleaved with newlines, for one writev call. */
export function withNewlines(items: readonly Buffer[]): Buffer[] {
  const out = new Array<Buffer>(items.length * 2);
  for (let i = 0; i < items.length; i++) {
    out[2 * i] = items[i] as Buffer;
    out[2 * i + 1] = NL;
  }
  return out;
}

export function byteLength(items: readonly Buffer[]): number {
  let n = 0;
  for (const item of items) n += item.length;
  return n;
}

/** Writes a whole segment so readers see all of it or none (DESIGN section 3). */
export async function writeSegmentAtomic(dir: string, name: string, items: readonly Buffer[]): Promise<void> {
  const tmp = join(dir, name + TEMP_SUFFIX); // same dir, so the rename is atomic; start-up removes leftovers
  const fh = await open(tmp, 'wx');
  try {
    await writeAll(fh, withNewlines(items));
    await fh.datasync(); // the data must be durable before the name appears
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
  await fsyncDir(dir); // makes the rename itself survive power loss
}

export async function writeAll(fh: import('node:fs/promises').FileHandle, buffers: Buffer[]): Promise<void> {
  const total = byteLength(buffers);
  let written = (await fh.writev(buffers)).bytesWritten;
  if (written === total) return;
  // Short write (rare on regular files): finish with the remaining bytes in one buffer.
  const rest = Buffer.concat(buffers).subarray(written);
  while (written < total) written += (await fh.write(rest, written - (total - rest.length))).bytesWritten;
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface SegmentContent {
  /** Complete, plausible lines (without newline). */
  items: Buffer[];
  /** Lines that cannot be items: garbage, or a torn last line. */
  badLines: number;
  /** The file did not end with a newline (a write torn by a crash). */
  tornTail: boolean;
}

/**
 * Reads a segment and checks each line cheaply: a line must look like a JSON object and the last
 * line must be complete. Lines are parsed only when the cheap check fails or for the last line,
 * so start-up over a 1 GiB spool stays fast; the listener still validates every line it stores.
 */
export async function readSegment(path: string, knownBytes?: number): Promise<SegmentContent> {
  const data = await readFile(path);
  // Bytes past what the spool wrote as whole lines are the remains of a failed write, never items.
  return splitSegment(knownBytes !== undefined && data.length > knownBytes ? data.subarray(0, knownBytes) : data);
}

export function splitSegment(data: Buffer): SegmentContent {
  const items: Buffer[] = [];
  let badLines = 0;
  let start = 0;
  while (start < data.length) {
    const nl = data.indexOf(0x0a, start);
    const end = nl === -1 ? data.length : nl;
    const line = data.subarray(start, end);
    if (line.length > 0) {
      if (nl === -1) {
        if (looksLikeObject(line) && parses(line)) items.push(line);
        else badLines++;
      } else if (looksLikeObject(line) || parses(line)) items.push(line);
      else badLines++;
    }
    start = end + 1;
  }
  const tornTail = data.length > 0 && data[data.length - 1] !== 0x0a;
  return { items, badLines, tornTail };
}

function looksLikeObject(line: Buffer): boolean {
  return line[0] === 0x7b && line[line.length - 1] === 0x7d && !line.includes(0);
}

function parses(line: Buffer): boolean {
  try {
    const v: unknown = JSON.parse(line.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}
