/**
 * The seam between ingest and the forwarder. Ingest offers items; the forwarder takes the
 * oldest batch, then acknowledges it (deleted from memory or spool) or releases it (returned,
 * to be taken again first). Nothing is removed before an acknowledgement: at-least-once.
 */
export type IngestSource = 'unix' | 'udp' | 'inbox';

/**
 * What became of one offered item, told to whoever waits for it (an acknowledging client, the
 * inbox deleting its file). accepted: in the memory buffer (memory mode) or appended to the open
 * segment (durable mode: it survives a SIGKILL; Queue.whenDurable() waits for the fdatasync, and
 * an inbox item is fdatasynced before it settles). dropped: refused by the spool's policy,
 * counted. deferred: refused by the spool's policy, but its sender keeps it on disk and offers it
 * again later, so nothing is lost and nothing is counted (inbox files only). unsafe: the disk
 * failed to take or confirm it; the sender should keep its copy and may send it again.
 */
export type SettleOutcome = 'accepted' | 'dropped' | 'deferred' | 'unsafe';
export type OnSettled = (outcome: SettleOutcome) => void;

export interface Batch {
  readonly id: number;
  /** The items as accepted: one compact JSON object each, without the newline. */
  readonly items: readonly Buffer[];
  /** Sum of item lengths (no newlines). */
  readonly bytes: number;
  /** Accept time (unix ms) of the oldest item. */
  readonly oldestAt: number;
}

export interface QueueStats {
  /** In memory, including a spill that is being written (spillingItems). */
  memoryItems: number;
  /** Of memoryItems: handed to the spool and not yet written (a SIGKILL now loses them too). */
  spillingItems: number;
  memoryBytes: number;
  memoryItemsLimit: number;
  spoolSegments: number;
  spoolItems: number;
  spoolBytes: number;
  spoolBytesLimit: number;
  /** Age of the oldest waiting item in ms, 0 when empty. */
  oldestItemAgeMs: number;
  /** Segments written because memory was full or at shutdown. */
  overflowSegmentsWritten: number;
  inFlightBatches: number;
  /** Items of the in-flight batches (counted in memoryItems or spoolItems too). */
  inFlightItems: number;
  inFlightBytes: number;
}

/** takeNowAt of a queue that asks for nothing before a full batch (the handover queue, before the real one is active). */
export const ONLY_FULL_BATCHES: Readonly<{ items: number; bytes: number }> = { items: Number.POSITIVE_INFINITY, bytes: Number.POSITIVE_INFINITY };

/** A wait that its owner can give up (the forwarder's linger timer won). */
export interface CancellableWait {
  promise: Promise<void>;
  cancel(): void;
}

export interface Queue {
  /**
   * Offers one validated item. In memory mode it counts as accepted at once; in durable mode once
   * it is appended to the open segment. `onSettled` runs exactly once with its outcome.
   */
  offer(item: Buffer, source: IngestSource, onSettled?: OnSettled): void;
  /**
   * Runs `cb` once every item settled as accepted so far is as safe as the mode makes it: memory
   * mode at once (its promise is the memory buffer), durable mode after an fdatasync that covers
   * it. false: that fdatasync failed. An acknowledging client's answer waits for this.
   */
  whenDurable(cb: (ok: boolean) => void): void;
  /** Oldest waiting items, spool first, then memory; null when nothing waits or all is in flight. */
  take(maxItems: number, maxBytes: number): Promise<Batch | null>;
  /** Delivered: delete the batch from memory or spool. */
  ack(batch: Batch): Promise<void>;
  /** Not delivered: put it back at the head of the queue. */
  release(batch: Batch): void;
  /** Resolves when there is something to take (at once if there is). */
  whenReadable(): Promise<void>;
  /** Resolves once at least `items` items or `bytes` bytes wait to be taken (a full batch). */
  whenFilled(items: number, bytes: number): CancellableWait;
  /**
   * How much waiting makes a batch worth taking at once, before batchItems / batchBytes: both
   * modes answer their memory limits. In memory mode a full memory buffer taken by an idle
   * forwarder never has to go to disk; in durable mode a sealed segment goes while its read is
   * still young garbage, instead of waiting for more segments to fill a batch.
   */
  takeNowAt(): { items: number; bytes: number };
  /** True while ingest should stop reading sockets: memory is full and its spill is still being written. */
  congested(): boolean;
  /** Runs `cb` once the queue is no longer congested. */
  whenRelieved(cb: () => void): void;
  /** Writes everything held in memory (including released batches) to the spool. */
  flushToSpool(): Promise<void>;
  stats(): QueueStats;
  stop(): Promise<void>;
}
