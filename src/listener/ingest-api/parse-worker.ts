import { parentPort } from 'node:worker_threads';
import { gunzipCapped } from './decode-body.js';
import { prepareLines, type PreparedBody } from './prepare-lines.js';

/** Request and answer between parse-pool.ts and this worker. */
export interface ParseTask {
  id: number;
  body: Uint8Array;
  as: 'auto' | 'activity';
  /** Set when `body` is gzip: gunzip here first, to at most this many bytes. */
  gunzipMaxBytes?: number;
}
export type ParseAnswer =
  | { id: number; kind: 'done'; prepared: PreparedBody; bodies: ArrayBuffer }
  | { id: number; kind: 'too_large' }
  | { id: number; kind: 'bad_encoding'; message: string }
  | { id: number; kind: 'failed'; message: string };

/**
 * Worker entry: prepares one batch per message (gunzip first when asked). Every record body is
 * copied into one ArrayBuffer that is transferred, not cloned; the main thread re-slices it
 * (parse-pool.ts `revive`).
 */
parentPort?.on('message', (task: ParseTask) => {
  try {
    let body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength);
    if (task.gunzipMaxBytes !== undefined) {
      const decoded = gunzipCapped(body, task.gunzipMaxBytes);
      if (decoded.kind !== 'ok') {
        parentPort?.postMessage({ id: task.id, ...decoded } satisfies ParseAnswer);
        return;
      }
      body = decoded.body;
    }
    const prepared = prepareLines(body, task.as);
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
});
