import type { CancellableWait } from './queue.js';

export interface QueueSignalSources {
  /** Something can be taken now. */
  hasReadable(): boolean;
  congested(): boolean;
  /** Items and bytes waiting to be taken (held minus in flight). */
  waiting(): { items: number; bytes: number };
}

export interface QueueSignals {
  whenReadable(): Promise<void>;
  whenRelieved(cb: () => void): void;
  whenFilled(items: number, bytes: number): CancellableWait;
  /** Call after anything arrived or came back: wakes readers and fill waiters. */
  readable(): void;
  /** Call after anything left memory or reached the disk: wakes paused ingest once not congested. */
  relieved(): void;
}

/** The waits a queue offers its ingest and its forwarder, shared by both buffer modes. */
export function createQueueSignals(s: QueueSignalSources): QueueSignals {
  let readableWaiters: Array<() => void> = [];
  let reliefWaiters: Array<() => void> = [];
  const fillWaiters = new Set<{ items: number; bytes: number; resolve: () => void }>();

  function filled(): void {
    if (fillWaiters.size === 0) return;
    const w = s.waiting();
    for (const f of fillWaiters) {
      if (w.items >= f.items || w.bytes >= f.bytes) {
        fillWaiters.delete(f);
        f.resolve();
      }
    }
  }

  return {
    whenReadable() {
      if (s.hasReadable()) return Promise.resolve();
      return new Promise((resolve) => readableWaiters.push(resolve));
    },
    whenRelieved(cb) {
      if (!s.congested()) cb();
      else reliefWaiters.push(cb);
    },
    whenFilled(items, bytes) {
      const w = s.waiting();
      if (w.items >= items || w.bytes >= bytes) return { promise: Promise.resolve(), cancel: () => undefined };
      let waiter: { items: number; bytes: number; resolve: () => void } | null = null;
      const promise = new Promise<void>((resolve) => {
        waiter = { items, bytes, resolve };
        fillWaiters.add(waiter);
      });
      return { promise, cancel: () => void (waiter && fillWaiters.delete(waiter)) };
    },
    readable() {
      if (readableWaiters.length > 0) {
        const waiters = readableWaiters;
        readableWaiters = [];
        for (const w of waiters) w();
      }
      filled();
    },
    relieved() {
      if (reliefWaiters.length === 0 || s.congested()) return;
      const waiters = reliefWaiters;
      reliefWaiters = [];
      for (const w of waiters) w();
    },
  };
}
