import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { FromThread, ToThread, WireRow } from './sink-thread.js';
import type { SinkHooks, SinkSpec } from './sink-spec.js';
import type { SendOutcome, Sink } from './sink.js';

const THREAD_URL = new URL('./sink-thread.js', import.meta.url);
/** How long close() waits for the thread to abort what it is sending before ending it. */
const CLOSE_GRACE_MS = 1_000;

export interface WorkerSinkHooks extends SinkHooks {
  /** The export thread died (crash, out of memory); its batch is retried on a new thread. */
  onThreadFailed(message: string): void;
}

/**
 * A sink that runs in a thread of its own (sink-thread.ts): the event loop only reads the store and
 * hands each batch over — the stored bytes of all its rows in one transferred buffer, no copy — and
 * waits for the outcome. Decompressing, encoding and sending compete with ingest for CPU only, never
 * for the event loop. A thread that dies fails its batch as `worker` (retried, possibly a duplicate)
 * and the next batch starts a new one.
 */
/**
 * The export thread's heap. A batch needs a few tens of MB (its payloads, at most `batchBytes` stored,
 * and their encoding), so a thread near 1 GB is leaking or fed something absurd: Node ends it alone (a
 * `worker` failure) long before it takes the listener's memory. Not tighter: one single allocation far
 * beyond the limit is fatal to the whole process; the largest here is one record's encoding (a payload
 * is at most limits.maxLineBytes).
 */
const THREAD_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 1024 };

export function createWorkerSink(spec: SinkSpec, hooks: WorkerSinkHooks, limits: ResourceLimits = THREAD_LIMITS): Sink {
  const pending = new Map<number, (outcome: SendOutcome) => void>();
  let worker: Worker | null = null;
  let onClosed: (() => void) | null = null;
  let nextId = 1;

  function start(): Worker {
    const w = new Worker(THREAD_URL, { workerData: spec, resourceLimits: limits });
    w.unref(); // never what keeps the process up
    w.on('message', (m: FromThread) => {
      if (m.type === 'outcome') {
        const done = pending.get(m.id);
        pending.delete(m.id);
        done?.(m.outcome);
      } else if (m.type === 'rejected_spans') hooks.onRejectedSpans(m.count, m.message);
      else onClosed?.();
    });
    let failed = false;
    const fail = (message: string): void => {
      if (failed) return;
      failed = true;
      if (worker === w) {
        worker = null;
        hooks.onThreadFailed(message);
      }
      for (const done of pending.values()) done({ kind: 'retry', code: 'worker', maybeDelivered: true, message });
      pending.clear();
      onClosed?.();
    };
    w.on('error', (err) => fail(`export thread failed: ${err.message}`));
    w.on('exit', (code) => fail(`export thread exited with code ${code}`));
    return w;
  }

  return {
    send(rows) {
      const w = worker ?? (worker = start());
      let total = 0;
      for (const r of rows) total += r.stored.length;
      const bytes = new ArrayBuffer(total);
      const all = new Uint8Array(bytes);
      let at = 0;
      const wire = rows.map((r): WireRow => {
        all.set(r.stored, at);
        // Field by field: an object spread per row measured several µs here, on the event loop.
        const row: WireRow = { stream: r.stream, position: r.position, project: r.project, source: r.source, key: r.key, timestamp: r.timestamp, profile: r.profile, encoding: r.encoding, facts: r.facts, at, len: r.stored.length };
        at += r.stored.length;
        return row;
      });
      const id = nextId++;
      return new Promise<SendOutcome>((resolve) => {
        pending.set(id, resolve);
        w.postMessage({ type: 'send', id, rows: wire, bytes } satisfies ToThread, [bytes]);
      });
    },
    async close() {
      const w = worker;
      if (!w) return;
      worker = null;
      // The thread aborts what it is sending (its batch is then retried after a restart), then ends.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_GRACE_MS);
        onClosed = () => {
          clearTimeout(timer);
          resolve();
        };
        w.postMessage({ type: 'close' } satisfies ToThread);
      });
      onClosed = null;
      await w.terminate();
    },
  };
}
