/**
 * The load generator of the ingest, delivery and daemon-cost benches: `processes` sender children
 * (sender.ts), each with its share of `total` messages, forked and ready before the clock starts,
 * then started together.
 */
import { forkModule, nextMessage, stopChild } from './child.js';
import type { SenderConfig, SenderMessage, SenderResult } from './sender.js';

export interface FleetOptions {
  socket: string;
  total: number;
  processes: number;
  /** Connections each process keeps in flight (max-throughput shape). */
  concurrency: number;
  /** Messages per second for the whole fleet; 0 = as fast as the senders go. */
  ratePerSec: number;
  sizeBytes: number;
  /** Goes into every correlation id, so runs of one bench never collide in a store. */
  runTag: number;
}

export interface SenderFleet {
  /** Starts every sender at once; resolves with their results as soon as all are done (throws if one failed). */
  go(): Promise<SenderResult[]>;
  /** Stops the sender processes: once the measurement is over, or instead of go(). */
  stop(): Promise<void>;
}

export async function startSenderFleet(o: FleetOptions): Promise<SenderFleet> {
  const senders = Array.from({ length: o.processes }, (_, i) => {
    const c: SenderConfig = {
      socket: o.socket,
      count: Math.floor(o.total / o.processes) + (i < o.total % o.processes ? 1 : 0),
      concurrency: o.concurrency,
      ratePerSec: o.ratePerSec / o.processes,
      offsetMs: o.ratePerSec > 0 ? (i * 1000) / o.ratePerSec : 0, // paced senders interleave evenly
      index: i,
      runTag: o.runTag,
      sizeBytes: o.sizeBytes,
    };
    return forkModule('./sender.js', { BENCH_SENDER: JSON.stringify(c) });
  });
  const stop = async (): Promise<void> => {
    for (const s of senders) await stopChild(s, 2_000);
  };
  try {
    await Promise.all(senders.map((s, i) => nextMessage<SenderMessage>(s, (m) => m.type === 'ready', 20_000, `sender ${i}`)));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    async go() {
      const done = senders.map((s, i) => nextMessage<SenderMessage>(s, (m) => m.type === 'done' || m.type === 'error', 600_000, `sender ${i}`));
      for (const s of senders) s.send({ type: 'go' });
      const results = await Promise.all(done);
      for (const r of results) if (r.type === 'error') throw new Error(`sender failed: ${r.message}`);
      return results as SenderResult[];
    },
    stop,
  };
}
