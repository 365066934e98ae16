import { createConnection, createServer, type Socket } from 'node:net';
import type { Validation } from '../../shared/protocol/parse-message.js';
import type { Queue } from '../buffer/queue.js';
import { handleConnection } from './connection.js';
import { createIngestGate } from './ingest-gate.js';
import type { IngestMetrics } from './ingest-metrics.js';
import { createIntake } from './intake.js';

export interface WarmUpOptions {
  /** Synthetic client connections, one profile each (ingest.warmUpConnections). */
  connections: number;
  validation: Validation;
  maxMessageBytes: number;
  /** Give up after this long: a warm-up may make a start slower, never make it fail. */
  budgetMs: number;
}

export interface WarmUpResult {
  /** Profiles the intake passed; equals `connections` when the whole path ran. */
  handled: number;
  ms: number;
  /** Why it stopped early (budget, socket error), or null. */
  cutShort: string | null;
}

const noop = (): void => undefined;
const COUNT_NOTHING: IngestMetrics = {
  rejected: noop,
  quarantined: noop,
  defaultsFilled: noop,
  connectionOpened: noop,
  connectionEnded: noop,
  connectionClosed: noop,
  receivedBytes: noop,
  inboxFile: noop,
};
const CONCURRENCY = 8;

/**
 * A fresh worker runs its first messages in V8's interpreter: in the first ~250 ms of traffic
 * client latency was 2-8x the steady state (docs/benchmarks.md, "Cold start"), and a worker
 * replaced on lifecycle.maxRequests takes over in the middle of a spike. So before it accepts,
 * the worker sends synthetic profiles through the code real clients take — socket accept, line
 * splitting, the connection's close, the intake's check — over a private abstract-namespace
 * socket, into a sink that keeps and counts nothing (no metric, no queue, no spool, no log).
 * The closures created here share their functions' type feedback and optimised code with the
 * real ones, which is what warms them.
 */
export async function warmUpIngest(o: WarmUpOptions): Promise<WarmUpResult> {
  const startedAt = Date.now();
  let handled = 0;
  const sink: Pick<Queue, 'offer' | 'congested' | 'whenRelieved'> = {
    offer: (_item, _source, onSettled) => {
      handled++;
      onSettled?.('accepted');
    },
    congested: () => false,
    whenRelieved: noop,
  };
  const intake = createIntake(sink, COUNT_NOTHING, { sample: () => false }, noop, o.validation);
  const gate = createIngestGate(sink);
  const open = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    handleConnection(socket, { maxMessageBytes: o.maxMessageBytes, intake, gate, metrics: COUNT_NOTHING, onSentinel: noop, whenDurable: (cb) => cb(true), now: Date.now });
  });
  const path = `\0bitville-apm-warm-up-${process.pid}-${startedAt}`; // abstract: no file to clean up
  const payload = warmUpProfile();
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`budget of ${o.budgetMs} ms`), o.budgetMs)));
  const run = async (): Promise<string | null> => {
    // `on`, not `once`: an accept error after listening must not become an uncaught one
    await new Promise<void>((resolve, reject) => server.on('error', reject).listen(path, resolve));
    let next = 0;
    let stop: string | null = null;
    const client = async (): Promise<void> => {
      while (next < o.connections && stop === null) {
        next++;
        stop = await sendOne(path, payload);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, o.connections) }, client));
    return stop;
  };
  let cutShort: string | null;
  try {
    cutShort = await Promise.race([run(), budget]);
  } catch (err) {
    cutShort = (err as Error).message;
  } finally {
    clearTimeout(timer);
    for (const s of open) s.destroy();
    server.close();
  }
  return { handled, ms: Date.now() - startedAt, cutShort };
}

/** One connection as PHP sends it (connect, write, half-close, wait for our close); an error string or null. */
function sendOne(path: string, payload: Buffer): Promise<string | null> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.on('error', (err) => resolve(err.message));
    c.once('close', () => resolve(null));
    c.once('connect', () => c.end(payload));
    c.resume();
  });
}

/**
 * ~10 KB shaped like a real PHP profile (nested request, SQL with quotes and escapes, an XHProf
 * map), so the checks meet the same kinds of bytes as in production.
 */
export function warmUpProfile(): Buffer {
  const queries = Array.from({ length: 30 }, (_, i) => ({
    query: `SELECT o.id, o.total FROM orders o WHERE o.customer_id = ${i} AND o.note = 'say \\"hi\\"'`,
    duration_ms: 1.25 + i,
    start_offset_ms: i * 3.5,
    stack: ['OrderRepository->find', 'CheckoutController->show'],
  }));
  const xhprof = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`main()==>App\\Service${i}::handle`, { ct: 1 + i, wt: 120 * i, cpu: 90 * i, mu: 2048, pmu: 4096 }]));
  const profile = {
    correlation_id: 'warm-up-0000',
    project: 'warm-up',
    timestamp: 1_700_000_000.5,
    elapsed_ms: 812.4,
    request: { method: 'POST', uri: '/checkout/confirm?order=1042', headers: { Host: 'shop.example', 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64)' }, get: { order: '1042' }, post: { token: '[redacted]' } },
    response: { status_code: 200 },
    timing: { start_time: 1_700_000_000.1, end_time: 1_700_000_000.9, duration_ms: 812.4 },
    memory: { peak_bytes: 12_582_912, end_bytes: 8_388_608 },
    sql: { queries, total_queries: queries.length, total_duration_ms: 431.5 },
    xhprof,
    server: { hostname: 'web-1', php_version: '8.2.0', sapi: 'fpm-fcgi' },
  };
  return Buffer.from(JSON.stringify(profile) + '\n');
}
