import { parentPort } from 'node:worker_threads';
import type { FactLimits } from '../extract/export-facts.js';
import { prepareGzipLines, prepareLines, type PreparedBody } from './prepare-lines.js';

/** Request and answer between parse-pool.ts and this worker. */
export interface ParseTask {
  id: number;
  body: Uint8Array;
  as: 'auto' | 'activity';
  maxLineBytes: number;
  /** Export facts to keep (an OTLP exporter is configured), or null. */
  facts: FactLimits | null;
  /** Set when `body` is gzip: inflate it here first, to at most this many bytes in total. */
  gunzipMaxBytes?: number;
}
export type ParseAnswer =
  | { id: number; kind: 'done'; prepared: PreparedBody; bodies: ArrayBuffer }
  | { id: number; kind: 'too_large' }
  | { id: number; kind: 'bad_encoding'; message: string }
  | { id: number; kind: 'failed'; message: string };

/**
 * Worker entry: prepares one batch per message (inflating first when asked), one batch at a time:
 * a gzip body is inflated as a stream, and taking the next task only when this one is done keeps
 * this thread's memory at one body's prepared records plus one line in flight. Every record body
 * is copied into one ArrayBuffer that is transferred, not cloned; the main thread re-slices it
 * (parse-pool.ts `revive`).
 */
let queue: Promise<void> = Promise.resolve();
parentPort?.on('message', (task: ParseTask) => {
  queue = queue.then(() => handle(task));
});

async function handle(task: ParseTask): Promise<void> {
  try {
    const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength);
    let prepared: PreparedBody;
    if (task.gunzipMaxBytes === undefined) prepared = prepareLines(body, { as: task.as, maxLineBytes: task.maxLineBytes, facts: task.facts });
    else {
      const outcome = await prepareGzipLines(body, task.gunzipMaxBytes, { as: task.as, maxLineBytes: task.maxLineBytes, facts: task.facts });
      if (outcome.kind !== 'ok') {
        parentPort?.postMessage({ id: task.id, ...outcome } satisfies ParseAnswer);
        return;
      }
      prepared = outcome.prepared;
    }
    let total = 0;
    for (const l of prepared.lines) if (l.kind === 'record') total += l.record.body.length;
    const bodies = new ArrayBuffer(total);
    const all = new Uint8Array(bodies);
    let at = 0;
    for (const l of prepared.lines) {
      if (l.kind !== 'record') continue;
      all.set(l.record.body, at);
      const len = l.record.body.length;
      // Replaced by a view on `bodies` on arrival; an empty placeholder clones for free.
      (l.record as { body: unknown }).body = { at, len };
      at += len;
    }
    parentPort?.postMessage({ id: task.id, kind: 'done', prepared, bodies } satisfies ParseAnswer, [bodies]);
  } catch (err) {
    parentPort?.postMessage({ id: task.id, kind: 'failed', message: (err as Error).message } satisfies ParseAnswer);
  }
}
