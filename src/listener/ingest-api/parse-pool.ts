import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { FactLimits } from '../extract/export-facts.js';
import type { ParseAnswer, ParseTask } from './parse-worker.js';
import { mergeRollups, type BatchRollup } from '../store/batch-rollup.js';
import { prepareGzipLines, prepareLines, type PreparedBody } from './prepare-lines.js';

export interface ParsePoolOptions {
  /** Worker threads; 0 prepares on the calling thread. Default: one per CPU, 1 to 4. */
  workers?: number;
  /** Lines longer than this (after gunzip) are rejected as `line_too_large`. Default: no limit. */
  maxLineBytes?: number;
  /** Keep export facts for the OTLP exporter with these limits (export-facts.ts); null/absent = none. */
  facts?: FactLimits | null;
}

export type PrepareOutcome =
  | { kind: 'ok'; prepared: PreparedBody }
  | { kind: 'too_large' }
  | { kind: 'bad_encoding'; message: string }
  | { kind: 'failed'; message: string };

export interface PrepareOptions {
  as?: 'auto' | 'activity';
  /** The body is gzip: the worker gunzips it to at most this many bytes (else `too_large`). */
  gunzipMaxBytes?: number;
}

export interface ParsePool {
  /**
   * Gunzips (when asked), splits, parses, extracts and compresses one NDJSON body; lines come back in
   * body order.
   */
  prepare(body: Buffer, options?: PrepareOptions): Promise<PrepareOutcome>;
  stats(): { workers: number; inFlight: number; restarts: number };
  stop(): Promise<void>;
}

export function defaultParseWorkers(): number {
  // One per CPU, not CPUs − 1: the event loop waits on SQLite's fsync much of the time, and with only
  // two batches in flight a single worker left both threads ~30 % idle (bench profile, 2 CPUs).
  return Math.max(1, Math.min(4, availableParallelism()));
}

interface Slot {
  worker: Worker;
  pending: Map<number, (answer: PrepareOutcome) => void>;
}

const WORKER_URL = new URL('./parse-worker.js', import.meta.url);

/**
 * Parse workers for /v1/ingest (profile: JSON.parse + extraction were ~45 % of the event loop's
 * time per batch). A batch goes to the worker with the fewest batches in flight. A worker that dies
 * fails only its own batches (answered 503, so the sender retries) and is replaced.
 */
export function createParsePool(options: ParsePoolOptions = {}): ParsePool {
  const size = options.workers ?? defaultParseWorkers();
  const maxLineBytes = options.maxLineBytes ?? Infinity;
  const facts = options.facts ?? null;
  const slots: Slot[] = [];
  let nextId = 1;
  let restarts = 0;
  let stopped = false;

  function spawn(index: number): Slot {
    const slot: Slot = { worker: new Worker(WORKER_URL), pending: new Map() };
    slot.worker.unref(); // never the reason the process stays up
    slot.worker.on('message', (answer: ParseAnswer) => {
      const done = slot.pending.get(answer.id);
      if (!done) return;
      slot.pending.delete(answer.id);
      if (answer.kind === 'done') done({ kind: 'ok', prepared: revive(answer) });
      else {
        const { id: _id, ...outcome } = answer;
        done(outcome);
      }
    });
    const fail = (message: string): void => {
      for (const done of slot.pending.values()) done({ kind: 'failed', message });
      slot.pending.clear();
      if (!stopped && slots[index] === slot) {
        restarts++;
        slots[index] = spawn(index);
      }
    };
    slot.worker.on('error', (err) => fail(`parse worker failed: ${err.message}`));
    slot.worker.on('exit', (code) => fail(`parse worker exited with code ${code}`));
    return slot;
  }
  for (let i = 0; i < size; i++) slots.push(spawn(i));

  function send(body: Buffer, as: 'auto' | 'activity', gunzipMaxBytes?: number): Promise<PrepareOutcome> {
    let slot = slots[0] as Slot;
    for (const s of slots) if (s.pending.size < slot.pending.size) slot = s;
    const chosen = slot;
    const id = nextId++;
    return new Promise<PrepareOutcome>((resolve) => {
      chosen.pending.set(id, resolve);
      // Transfer when the Buffer owns its whole ArrayBuffer (a gunzip result or a chunk copy); never a pooled slice.
      const owns = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
      const task: ParseTask = { id, body, as, maxLineBytes, facts, ...(gunzipMaxBytes === undefined ? {} : { gunzipMaxBytes }) };
      chosen.worker.postMessage(task, owns ? [body.buffer as ArrayBuffer] : []);
    });
  }

  return {
    async prepare(body, { as = 'auto', gunzipMaxBytes } = {}) {
      if (stopped) return { kind: 'failed', message: 'parse pool stopped' };
      if (gunzipMaxBytes !== undefined) {
        if (slots.length > 0) return send(body, as, gunzipMaxBytes); // gunzip, too, off the event loop: one worker per gzip body
        return prepareGzipLines(body, gunzipMaxBytes, { as, maxLineBytes, facts });
      }
      if (slots.length === 0) return { kind: 'ok', prepared: prepareLines(body, { as, maxLineBytes, facts }) };
      const chunks = splitAtLines(body, body.length >= SPLIT_MIN_BYTES ? slots.length : 1);
      const outcomes = await Promise.all(chunks.map((c) => send(c.bytes, as)));
      const lines: PreparedBody['lines'] = [];
      const rollups: BatchRollup[] = [];
      let anyJson = false;
      for (const [i, o] of outcomes.entries()) {
        if (o.kind !== 'ok') return o;
        const offset = chunks[i]?.lineOffset ?? 0;
        for (const l of o.prepared.lines) {
          l.line += offset;
          lines.push(l);
        }
        anyJson ||= o.prepared.anyJson;
        if (o.prepared.rollup) rollups.push(o.prepared.rollup);
      }
      return { kind: 'ok', prepared: { lines, anyJson, rollup: mergeRollups(rollups) } };
    },
    stats() {
      return { workers: slots.length, inFlight: slots.reduce((n, s) => n + s.pending.size, 0), restarts };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

/** Bodies this large are split across the workers, so one batch does not wait on one thread. */
const SPLIT_MIN_BYTES = 256 * 1024;

/** `parts` pieces cut just after a newline; each knows how many lines come before it. */
function splitAtLines(body: Buffer, parts: number): { bytes: Buffer; lineOffset: number }[] {
  if (parts <= 1) return [{ bytes: body, lineOffset: 0 }];
  const out: { bytes: Buffer; lineOffset: number }[] = [];
  let start = 0;
  let lineOffset = 0;
  for (let p = 1; p < parts && start < body.length; p++) {
    const nl = body.indexOf(0x0a, Math.max(start, Math.floor((body.length * p) / parts)));
    if (nl < 0) break;
    const piece = body.subarray(start, nl + 1);
    out.push({ bytes: Buffer.from(piece), lineOffset }); // a copy that owns its memory, so it can be transferred
    lineOffset += countNewlines(piece);
    start = nl + 1;
  }
  out.push({ bytes: Buffer.from(body.subarray(start)), lineOffset });
  return out;
}

function countNewlines(b: Buffer): number {
  let n = 0;
  for (let at = b.indexOf(0x0a); at >= 0; at = b.indexOf(0x0a, at + 1)) n++;
  return n;
}

function revive(answer: Extract<ParseAnswer, { kind: 'done' }>): PreparedBody {
  for (const l of answer.prepared.lines) {
    if (l.kind !== 'record') continue;
    const at = l.record.body as unknown as { at: number; len: number };
    l.record.body = Buffer.from(answer.bodies, at.at, at.len);
  }
  return answer.prepared;
}
