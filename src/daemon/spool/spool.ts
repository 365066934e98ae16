import { link, mkdir, open, readdir, rename, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { byteLength, fsyncDir, readSegment, withNewlines, writeAll, writeSegmentAtomic, type SegmentContent } from './segment-file.js';
import { OPEN_SUFFIX, TEMP_SUFFIX, isSegmentName, segmentName } from './segment-name.js';

export interface SpoolOptions {
  dir: string;
  quarantineDir: string;
  maxBytes: number;
  minFreeBytes: number;
  whenFull: 'drop_oldest' | 'drop_newest';
  /** A segment the forwarder holds must not be deleted by the quota. */
  isBusy: (name: string) => boolean;
  onDrop: (reason: DropReason, items: number) => void;
  now?: () => number;
}

/** Why an offered or spooled item was dropped: a policy decision, always counted by reason. */
export type DropReason = 'spool_full' | 'disk_error';

export interface SegmentInfo {
  readonly name: string;
  readonly items: number;
  /** Bytes on disk, newlines included. */
  readonly bytes: number;
}

export interface RecoveryReport {
  segments: number;
  items: number;
  tempFilesRemoved: number;
  openSegmentsSealed: number;
  quarantinedSegments: number;
  badLines: number;
}

export type WriteResult = { kind: 'written'; name: string } | { kind: 'dropped'; reason: DropReason; error?: unknown };

export interface Spool {
  recover(): Promise<RecoveryReport>;
  /** Memory mode: one atomic segment of items whose first was accepted at (atMs, seq). */
  write(items: readonly Buffer[], atMs: number, seq: number): Promise<WriteResult>;
  /** Durable mode: appends to the open segment (created on first use). Not fsynced: see sync(). */
  append(items: readonly Buffer[], atMs: number, seq: number): Promise<WriteResult>;
  /** Durable mode: fdatasync the open segment if it changed since the last one; true if it did. */
  sync(): Promise<boolean>;
  /** Durable mode: fsync, close and rename the open segment so it becomes an ordinary segment. */
  sealOpen(): Promise<void>;
  /** The open durable segment; `firstAt` is its first item's accept time (unix ms, from its name). */
  openSegment(): { items: number; bytes: number; firstAt: number } | null;
  /** Sealed segments, oldest first. */
  segments(): readonly SegmentInfo[];
  read(name: string): Promise<Buffer[]>;
  /**
   * Deletes a segment. It leaves segments() and the totals synchronously, when remove() is
   * called, not when the unlink completes: spool-batches.ts relies on that to keep its in-flight
   * count in step with them.
   */
  remove(name: string): Promise<void>;
  totalBytes(): number;
  totalItems(): number;
  /** Live check for /health: can we create, fsync and delete a file in the spool? */
  probeWritable(): Promise<boolean>;
  /** Free bytes on the spool's filesystem (statfs, re-read at most once a second). */
  freeBytes(): Promise<number>;
  close(): Promise<void>;
}

interface OpenSegment {
  name: string;
  fh: FileHandle;
  items: number;
  /** Bytes of whole lines written so far. */
  bytes: number;
  dirty: boolean;
  firstAt: number;
}

export function createSpool(options: SpoolOptions): Spool {
  const now = options.now ?? Date.now;
  const index: SegmentInfo[] = []; // sorted by name = FIFO
  let indexBytes = 0;
  let indexItems = 0;
  let open_: OpenSegment | null = null;
  let freeBytesAt = 0;
  let freeBytesCache = Number.POSITIVE_INFINITY;
  const cutAt = new Map<string, number>(); // segments whose tail past this length is a failed write
  let sealing: OpenSegment | null = null;

  function addToIndex(info: SegmentInfo): void {
    // Usually the newest; a released batch spooled late sorts earlier (its first item is older).
    let i = index.length;
    while (i > 0 && (index[i - 1] as SegmentInfo).name > info.name) i--;
    index.splice(i, 0, info);
    indexBytes += info.bytes;
    indexItems += info.items;
  }

  async function freeBytes(): Promise<number> {
    if (now() - freeBytesAt > 1_000) {
      const s = await statfs(options.dir);
      freeBytesCache = s.bavail * s.bsize;
      freeBytesAt = now();
    }
    return freeBytesCache;
  }

  /** Applies the quota before `incoming` more bytes land. False means: drop the incoming items. */
  async function makeRoom(incoming: number): Promise<boolean> {
    const fits = async (): Promise<boolean> =>
      indexBytes + (open_?.bytes ?? 0) + incoming <= options.maxBytes && (await freeBytes()) - incoming >= options.minFreeBytes;
    if (await fits()) return true;
    if (options.whenFull === 'drop_newest') return false;
    while (!(await fits())) if (!(await dropOldest())) return false;
    return true;
  }

  /** Deletes the oldest segment not held by the forwarder; false if there is none. */
  async function dropOldest(): Promise<boolean> {
    const victim = index.find((s) => !options.isBusy(s.name));
    if (!victim) return false;
    await remove(victim.name);
    freeBytesAt = 0; // re-read free space after deleting
    options.onDrop('spool_full', victim.items);
    return true;
  }

  async function remove(name: string): Promise<void> {
    const i = index.findIndex((s) => s.name === name);
    if (i === -1) return;
    const info = index[i] as SegmentInfo;
    index.splice(i, 1);
    indexBytes -= info.bytes;
    indexItems -= info.items;
    cutAt.delete(name);
    await unlink(join(options.dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** A hard link into quarantine/ keeps the original for inspection without needing free space. */
  async function keepForInspection(name: string): Promise<void> {
    await mkdir(options.quarantineDir, { recursive: true });
    await link(join(options.dir, name), join(options.quarantineDir, `segment-${now()}-${name}`)).catch(() => undefined);
  }

  /**
   * Replaces segment `from` by `to` holding only its good lines (atomic write over the name). On a
   * full disk the rewrite can fail: then the original stays in place, its good lines are still
   * served by read(), and the salvage is tried again at the next read. Never loses a good line.
   */
  async function salvage(from: string, to: string, content: SegmentContent): Promise<void> {
    if (content.badLines > 0) await keepForInspection(from);
    try {
      if (content.items.length > 0) await writeSegmentAtomic(options.dir, to, content.items);
      if (from !== to || content.items.length === 0) await unlink(join(options.dir, from)).catch(() => undefined);
    } catch {
      await unlink(join(options.dir, to + TEMP_SUFFIX)).catch(() => undefined);
      if (from !== to) await rename(join(options.dir, from), join(options.dir, to));
    }
  }

  /**
   * Truncates the open segment to the bytes of its whole lines (it is opened O_APPEND, so the next
   * write lands right after them). If even that fails, seals it there: read() stops at that length,
   * and new appends go to a new file.
   */
  async function cutBack(seg: OpenSegment): Promise<void> {
    try {
      await seg.fh.truncate(seg.bytes);
    } catch {
      cutAt.set(seg.name, seg.bytes);
      await sealOpen().catch(() => undefined); // recovery at the next start salvages a torn tail
    }
  }

  async function sealOpen(): Promise<void> {
    const seg = open_;
    if (!seg) return;
    open_ = null;
    sealing = seg; // still counted in the totals while it changes name: /health must not see it vanish
    try {
      try {
        await seg.fh.datasync();
      } finally {
        await seg.fh.close();
      }
      if (seg.items === 0) {
        await unlink(join(options.dir, seg.name + '.open')).catch(() => undefined); // every write to it failed
        return;
      }
      await rename(join(options.dir, seg.name + '.open'), join(options.dir, seg.name));
      await fsyncDir(options.dir);
      addToIndex({ name: seg.name, items: seg.items, bytes: seg.bytes });
    } finally {
      sealing = null;
    }
  }

  return {
    async recover() {
      await mkdir(options.dir, { recursive: true });
      const report: RecoveryReport = { segments: 0, items: 0, tempFilesRemoved: 0, openSegmentsSealed: 0, quarantinedSegments: 0, badLines: 0 };
      const names = (await readdir(options.dir)).sort();
      for (const name of names) {
        if (name.endsWith(TEMP_SUFFIX)) {
          await unlink(join(options.dir, name)); // a write that never completed; its items were never spooled
          report.tempFilesRemoved++;
          continue;
        }
        let final = name;
        if (name.endsWith(OPEN_SUFFIX)) {
          final = name.slice(0, -'.open'.length); // durable segment interrupted by a crash: seal what it holds
          report.openSegmentsSealed++;
        } else if (!isSegmentName(name)) continue;
        const content = await readSegment(join(options.dir, name));
        if (content.badLines === 0 && !content.tornTail && final !== name) {
          await rename(join(options.dir, name), join(options.dir, final));
          await fsyncDir(options.dir);
        } else if (content.badLines > 0 || content.tornTail) {
          if (content.badLines > 0) {
            report.badLines += content.badLines;
            report.quarantinedSegments++;
          }
          await salvage(name, final, content); // keeps the original in quarantine/ when it had bad lines
        }
        if (content.items.length === 0) continue;
        addToIndex({ name: final, items: content.items.length, bytes: byteLength(content.items) + content.items.length });
        report.segments++;
        report.items += content.items.length;
      }
      return report;
    },

    async write(items, atMs, seq) {
      const bytes = byteLength(items) + items.length;
      if (!(await makeRoom(bytes))) return { kind: 'dropped', reason: 'spool_full' };
      const name = segmentName(atMs, seq);
      for (let attempt = 0; ; attempt++) {
        try {
          await writeSegmentAtomic(options.dir, name, items);
          break;
        } catch (error) {
          await unlink(join(options.dir, name + TEMP_SUFFIX)).catch(() => undefined);
          // The disk filled up faster than statfs told us: under drop_oldest, make room and retry.
          const retry = (error as NodeJS.ErrnoException).code === 'ENOSPC' && options.whenFull === 'drop_oldest' && attempt < 3 && (await dropOldest());
          if (!retry) return { kind: 'dropped', reason: (error as NodeJS.ErrnoException).code === 'ENOSPC' ? 'spool_full' : 'disk_error', error };
        }
      }
      addToIndex({ name, items: items.length, bytes });
      return { kind: 'written', name };
    },

    async append(items, atMs, seq) {
      const bytes = byteLength(items) + items.length;
      if (!(await makeRoom(bytes))) return { kind: 'dropped', reason: 'spool_full' };
      try {
        if (!open_) {
          const name = segmentName(atMs, seq);
          // O_APPEND: after a failed write is truncated away, the next one must not leave a hole
          const fh = await open(join(options.dir, name + '.open'), 'ax');
          open_ = { name, fh, items: 0, bytes: 0, dirty: false, firstAt: atMs };
          await fsyncDir(options.dir); // the new name must survive a crash as well as its bytes
        }
        await writeAll(open_.fh, withNewlines(items));
      } catch (error) {
        // A write cut short (ENOSPC, EIO) may have left part of a line: cut the file back to its
        // last whole line, so no torn line is ever forwarded and the dropped count is exact.
        if (open_) await cutBack(open_);
        return { kind: 'dropped', reason: (error as NodeJS.ErrnoException).code === 'ENOSPC' ? 'spool_full' : 'disk_error', error };
      }
      open_.items += items.length;
      open_.bytes += bytes;
      open_.dirty = true;
      return { kind: 'written', name: open_.name };
    },

    async sync() {
      const seg = open_;
      if (!seg?.dirty) return false;
      seg.dirty = false;
      try {
        await seg.fh.datasync();
      } catch (err) {
        seg.dirty = true; // the next sync must try again, not report these bytes as safe
        throw err;
      }
      return true;
    },

    sealOpen,
    openSegment: () => (open_ ? { items: open_.items, bytes: open_.bytes, firstAt: open_.firstAt } : null),
    segments: () => index,

    async read(name) {
      const content = await readSegment(join(options.dir, name), cutAt.get(name));
      if (content.badLines > 0 || content.tornTail) {
        // Changed under us (bit rot, a hand edit): keep the good lines, quarantine the original.
        await salvage(name, name, content);
        const i = index.findIndex((s) => s.name === name);
        if (i !== -1) {
          const old = index[i] as SegmentInfo;
          indexBytes += byteLength(content.items) + content.items.length - old.bytes;
          indexItems += content.items.length - old.items;
          index[i] = { name, items: content.items.length, bytes: byteLength(content.items) + content.items.length };
        }
      }
      return content.items;
    },

    remove,
    freeBytes,
    totalBytes: () => indexBytes + (open_?.bytes ?? 0) + (sealing?.bytes ?? 0),
    totalItems: () => indexItems + (open_?.items ?? 0) + (sealing?.items ?? 0),

    async probeWritable() {
      const probe = join(options.dir, `.probe-${process.pid}${TEMP_SUFFIX}`);
      try {
        const fh = await open(probe, 'w');
        try {
          await fh.write('ok');
          await fh.datasync();
        } finally {
          await fh.close();
        }
        await unlink(probe);
        return true;
      } catch {
        return false;
      }
    },

    async close() {
      if (open_) await sealOpen();
    },
  };
}

