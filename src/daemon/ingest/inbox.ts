import { chmod, mkdir, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { LimitedLog } from '../../shared/telemetry/rate-limited-log.js';
import type { IngestMetrics } from './ingest-metrics.js';
import type { Intake } from './intake.js';

export interface InboxOptions {
  dir: string;
  quarantineDir: string;
  sweepMs: number;
  maxMessageBytes: number;
  intake: Intake;
  metrics: IngestMetrics;
  logLimited: LimitedLog;
}

export interface InboxSource {
  /** Sweeps once now, then every sweepMs. */
  start(): Promise<void>;
  sweep(): Promise<void>;
  stop(): Promise<void>;
}

const PROFILE_FILE = /^profile_.*\.json$/;
/** Files per sweep, so a huge backlog after an outage does not starve the socket. */
const MAX_FILES_PER_SWEEP = 2_000;
/** Files per sweep while the spool has recently refused (deferred) inbox files. */
const DEFERRED_FILES_PER_SWEEP = 10;

/**
 * Files the PHP client wrote (temp + rename) while the socket was unreachable (DESIGN section 2).
 * A file is deleted only once its item is safely accepted; a file that is not a valid message
 * moves to quarantine/ so it is neither retried forever nor lost.
 */
export function createInboxSource(o: InboxOptions): InboxSource {
  let timer: NodeJS.Timeout | null = null;
  let sweeping: Promise<void> | null = null;
  const waiting = new Set<string>(); // offered, not yet safe (durable mode appends asynchronously)
  let deferredAt = 0; // when the spool last refused an inbox file

  async function sweepOnce(): Promise<void> {
    const names = (await readdir(o.dir)).filter((n) => PROFILE_FILE.test(n) && !waiting.has(n)).sort();
    // While the spool refuses inbox files, offer only a few per sweep instead of re-reading thousands.
    const limit = Date.now() - deferredAt < 10 * o.sweepMs ? DEFERRED_FILES_PER_SWEEP : MAX_FILES_PER_SWEEP;
    for (const name of names.slice(0, limit)) {
      const path = join(o.dir, name);
      try {
        const size = (await stat(path)).size;
        const data = size > o.maxMessageBytes ? null : await readFile(path);
        if (data === null) {
          o.intake.reject('oversized', Buffer.alloc(0), 'inbox');
          await moveToQuarantine(name);
          continue;
        }
        waiting.add(name);
        const accepted = o.intake.handle(data, 'inbox', (outcome) => {
          if (outcome === 'unsafe' || outcome === 'deferred') {
            // not confirmed on disk, or the spool is full: keep the file, a later sweep offers it again
            if (outcome === 'deferred') {
              o.metrics.inboxFile('deferred');
              deferredAt = Date.now();
            }
            waiting.delete(name);
            return;
          }
          // accepted, or dropped by the spool's policy (counted there): either way the file has done its job
          o.metrics.inboxFile(outcome === 'accepted' ? 'accepted' : 'dropped');
          if (outcome === 'accepted') deferredAt = 0;
          unlink(path)
            .catch(() => undefined) // already gone: nothing to do
            .finally(() => waiting.delete(name));
        });
        if (!accepted) {
          waiting.delete(name);
          await moveToQuarantine(name);
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile
        o.logLimited('inbox_read', { err, file: name }, 'could not read an inbox file; will retry');
      }
    }
  }

  async function moveToQuarantine(name: string): Promise<void> {
    o.metrics.inboxFile('rejected');
    o.metrics.quarantined('inbox_file');
    await mkdir(o.quarantineDir, { recursive: true });
    await rename(join(o.dir, name), join(o.quarantineDir, `inbox-${Date.now()}-${name}`));
  }

  function sweep(): Promise<void> {
    sweeping ??= sweepOnce().finally(() => {
      sweeping = null;
    });
    return sweeping;
  }

  return {
    async start() {
      await mkdir(o.dir, { recursive: true });
      await chmod(o.dir, 0o1777).catch(() => undefined); // PHP-FPM users drop files here (sticky, like /tmp)
      await sweep();
      timer = setInterval(() => {
        sweep().catch((err: unknown) => o.logLimited('inbox_sweep', { err }, 'inbox sweep failed; retrying next tick'));
      }, o.sweepMs);
      timer.unref();
    },
    sweep,
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await sweeping;
    },
  };
}
