import type { Logger } from 'pino';
import type { IngestSource, OnSettled, SettleOutcome } from './queue.js';
import type { Spool, WriteResult } from '../spool/spool.js';
import type { BufferMetrics } from './buffer-metrics.js';

export interface PendingItem {
  bytes: Buffer;
  at: number;
  seq: number;
  source: IngestSource;
  onSettled: OnSettled | undefined;
}

export interface DurableAppenderOptions {
  spool: Spool;
  /** Seal the open segment at this many items / bytes; also the bound on items waiting to be appended. */
  memoryItems: number;
  memoryBytes: number;
  fsyncMs: number;
  /** An append starts at most this often (after the previous one started), so a busy daemon makes fewer, bigger writes. */
  commitDelayMs: number;
  /** The queue's single chain of spool operations, so appends, seals and deletes stay in order. */
  serial: <T>(task: () => Promise<T>) => Promise<T>;
  /** Counts a write or a drop; false when the spool refused the items. */
  onWrite: (result: WriteResult, items: number) => boolean;
  /** After each append: the queue wakes readers and paused ingest. */
  onProgress: () => void;
  metrics: BufferMetrics;
  log: Logger;
  now?: () => number;
}

export interface DurableAppender {
  offer(item: PendingItem): void;
  /** Items waiting for their append are over the memory limits: ingest should pause. */
  congested(): boolean;
  /** Items (and their bytes) offered and not yet appended. */
  waiting(): number;
  waitingBytes(): number;
  /**
   * Runs `cb` after an fdatasync that covers every item settled so far (queued behind the appends
   * in the serial chain; callers that ask before it starts share it). false: the fdatasync failed.
   */
  whenDurable(cb: (ok: boolean) => void): void;
  /** Resolves once everything offered so far is appended (or dropped by policy). */
  drain(): Promise<void>;
  stop(): void;
}

/**
 * durable mode (DESIGN section 3): every item is appended to the open segment before it counts
 * as accepted, so a SIGKILL loses none of them; the open segment is fdatasynced every fsyncMs,
 * so a power cut loses at most that window. Group commit: only one append runs at a time, items
 * that arrive meanwhile form the next, larger write, and the next append starts no sooner than
 * commitDelayMs after the previous one started (or at once when half the memory limit is
 * waiting). Each append costs a handful of fs calls whatever its size, so under load the delay,
 * not the disk, sets the group size (docs/daemon.md, "Commit delay").
 *
 * Whoever must know an item survives a power cut asks for it: an acknowledging client through
 * whenDurable() once its messages are appended, an inbox file (deleted once its item settles) by
 * settling only after an fdatasync in the same serial step. One fsync then covers every group
 * appended before it, and senders that write and close pay for none (docs/daemon.md,
 * "Acknowledged sends").
 */
export function createDurableAppender(o: DurableAppenderOptions): DurableAppender {
  let pending: PendingItem[] = [];
  let pendingBytes = 0;
  const now = o.now ?? Date.now;
  let scheduled = false; // an append is queued or running
  let delayTimer: NodeJS.Timeout | null = null; // the queued append waits for commitDelayMs
  let lastStartAt = -Infinity;

  let queuedSync: Array<(ok: boolean) => void> | null = null; // whenDurable callers of the sync not started yet

  async function sync(): Promise<void> {
    if (await o.spool.sync()) o.metrics.segmentSynced();
  }

  const fsyncTimer = setInterval(() => {
    void o.serial(sync).catch((err: unknown) => o.log.error({ err }, 'spool fsync failed'));
  }, o.fsyncMs);
  fsyncTimer.unref();

  /** Half the memory limit waiting is a group worth writing now; waiting longer only risks pausing ingest. */
  const groupFull = (): boolean => pending.length * 2 >= o.memoryItems || pendingBytes * 2 >= o.memoryBytes;

  function schedule(): void {
    scheduled = true;
    const wait = lastStartAt + o.commitDelayMs - now();
    if (wait <= 0 || groupFull()) setImmediate(appendPending);
    else delayTimer = setTimeout(appendPending, wait);
  }

  /** The queued append starts now instead of at the end of its delay. */
  function hurry(): void {
    if (delayTimer === null) return;
    clearTimeout(delayTimer);
    delayTimer = null;
    setImmediate(appendPending);
  }

  function appendPending(): void {
    delayTimer = null;
    if (pending.length === 0) {
      scheduled = false;
      return;
    }
    lastStartAt = now();
    const batch = pending;
    pending = [];
    pendingBytes = 0;
    const first = batch[0] as PendingItem;
    let settled = false;
    const settle = (outcome: SettleOutcome, inboxOutcome: SettleOutcome = outcome): void => {
      if (settled) return;
      settled = true;
      for (const p of batch) p.onSettled?.(p.source === 'inbox' ? inboxOutcome : outcome);
    };
    void o
      .serial(async () => {
        const result = await o.spool.append(batch.map((p) => p.bytes), first.at, first.seq);
        // An inbox file refused by the spool stays in the inbox for a later sweep: not a drop.
        if (!o.onWrite(result, batch.filter((p) => p.source !== 'inbox').length)) {
          settled = true;
          for (const p of batch) p.onSettled?.(p.source === 'inbox' ? 'deferred' : 'dropped');
          o.onProgress();
          return;
        }
        for (const p of batch) o.metrics.accepted(p.source);
        let inboxOutcome: 'accepted' | 'unsafe' = 'accepted';
        if (batch.some((p) => p.source === 'inbox')) {
          try {
            await sync();
          } catch (err) {
            inboxOutcome = 'unsafe'; // written but not confirmed durable: the inbox keeps its file
            o.log.error({ err }, 'spool fsync failed; inbox files kept');
          }
        }
        const open = o.spool.openSegment();
        if (open && (open.items >= o.memoryItems || open.bytes >= o.memoryBytes)) {
          await o.spool.sealOpen();
          o.metrics.segmentWritten();
        }
        settle('accepted', inboxOutcome);
        o.onProgress();
      })
      .catch((err: unknown) => {
        o.log.error({ err }, 'durable append failed');
        settle('unsafe');
      })
      .finally(() => {
        scheduled = false;
        if (pending.length > 0) schedule(); // the next group, if any arrived meanwhile
      });
  }

  return {
    offer(item) {
      pending.push(item);
      pendingBytes += item.bytes.length;
      if (!scheduled) schedule();
      else if (groupFull()) hurry();
    },
    congested: () => pending.length >= o.memoryItems || pendingBytes >= o.memoryBytes,
    waiting: () => pending.length,
    waitingBytes: () => pendingBytes,
    whenDurable(cb) {
      if (queuedSync) {
        queuedSync.push(cb);
        return;
      }
      const callers = [cb];
      queuedSync = callers;
      void o.serial(async () => {
        queuedSync = null; // whoever asks from now on may have items appended after this sync starts
        let ok = true;
        try {
          await sync();
        } catch (err) {
          ok = false;
          o.log.error({ err }, 'spool fsync failed; acknowledgements withheld');
        }
        for (const c of callers) c(ok);
      }).catch((err: unknown) => o.log.error({ err }, 'answering after an fsync failed'));
    },
    async drain() {
      while (scheduled || pending.length > 0) {
        if (!scheduled) {
          scheduled = true;
          appendPending();
        } else hurry();
        await o.serial(async () => undefined);
        await new Promise((r) => setImmediate(r));
      }
    },
    stop() {
      clearInterval(fsyncTimer);
      hurry(); // whatever waits is appended at once; drain() follows
    },
  };
}
