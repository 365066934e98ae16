import type { Logger } from '../../shared/telemetry/logger.js';
import { backoffMs } from '../backoff.js';
import type { Transport } from './transports.js';

export interface RecordSenderOptions {
  transport: Transport;
  bufferItems: number;
  bufferBytes: number;
  flushIntervalMs: number;
  log: Logger;
  /** Most records per send. 200. */
  batchItems?: number;
  onDropped?: (reason: 'buffer_full' | 'rejected', n: number) => void;
}

export interface SenderStats {
  buffered: number;
  bufferedBytes: number;
  sent: number;
  dropped: { buffer_full: number; rejected: number };
  failures: number;
  consecutiveFailures: number;
  lastError: string | null;
}

export interface RecordSender {
  enqueue(record: object): void;
  start(): void;
  stats(): SenderStats;
  /** Tries one last send of what is buffered (bounded by the transport's timeout), then stops. */
  stop(): Promise<void>;
}

/**
 * The agent's own small buffer in front of the daemon socket or the listener: bounded in records
 * and bytes (the oldest go first, counted, when the target stays down), one send in flight,
 * exponential backoff with jitter between failed attempts, `Retry-After` honoured.
 */
export function createRecordSender(o: RecordSenderOptions): RecordSender {
  const queue: Buffer[] = [];
  let bytes = 0;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> | null = null;
  let attempt = 0;
  let stopped = false;
  const batchItems = o.batchItems ?? 200;
  const s: SenderStats = { buffered: 0, bufferedBytes: 0, sent: 0, dropped: { buffer_full: 0, rejected: 0 }, failures: 0, consecutiveFailures: 0, lastError: null };

  function schedule(ms: number): void {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = null;
      if (!inFlight) inFlight = sendOnce().finally(() => (inFlight = null));
    }, ms);
    timer.unref();
  }

  async function sendOnce(): Promise<void> {
    if (queue.length === 0) return;
    const batch = queue.slice(0, batchItems);
    let outcome;
    try {
      outcome = await o.transport(batch);
    } catch (err) {
      outcome = { kind: 'retry' as const, code: (err as Error).message };
    }
    if (outcome.kind === 'retry') {
      s.failures++;
      s.consecutiveFailures++;
      s.lastError = outcome.code;
      const delay = outcome.afterMs ?? Math.max(200, backoffMs(attempt++, { initialMs: 500, maxMs: 30_000 }));
      if (s.consecutiveFailures === 1 || s.consecutiveFailures % 20 === 0) o.log.warn({ error_code: outcome.code, retry_in_ms: delay, buffered: queue.length }, 'sending records failed; keeping them and retrying');
      schedule(delay);
      return;
    }
    // Records queued meanwhile went behind the batch; records dropped meanwhile (buffer full) came off the front.
    const last = queue.indexOf(batch[batch.length - 1] as Buffer);
    const take = last + 1; // 0 when the whole batch was dropped while in flight
    for (const b of queue.splice(0, take)) bytes -= b.length;
    attempt = 0;
    s.consecutiveFailures = 0;
    if (outcome.kind === 'delivered') s.sent += take;
    else {
      s.dropped.rejected += take;
      o.onDropped?.('rejected', take);
      o.log.error({ error_code: outcome.code, records: take }, 'the target refused records for good; dropped them');
    }
    if (queue.length > 0) schedule(queue.length >= batchItems ? 0 : o.flushIntervalMs);
  }

  return {
    enqueue(record) {
      if (stopped) return;
      const line = Buffer.from(JSON.stringify(record));
      queue.push(line);
      bytes += line.length;
      let dropped = 0;
      while (queue.length > 1 && (queue.length > o.bufferItems || bytes > o.bufferBytes)) {
        bytes -= (queue.shift() as Buffer).length;
        dropped++;
      }
      if (dropped > 0) {
        s.dropped.buffer_full += dropped;
        o.onDropped?.('buffer_full', dropped);
      }
      if (s.consecutiveFailures === 0) schedule(queue.length >= batchItems ? 0 : o.flushIntervalMs);
    },
    start() {
      stopped = false;
    },
    stats: () => ({ ...s, dropped: { ...s.dropped }, buffered: queue.length, bufferedBytes: bytes }),
    async stop() {
      if (timer) clearTimeout(timer);
      timer = null;
      if (inFlight) await inFlight;
      if (queue.length > 0 && s.consecutiveFailures === 0) await sendOnce();
      stopped = true;
    },
  };
}
