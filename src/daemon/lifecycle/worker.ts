import type { Socket as UdpSocket } from 'node:dgram';
import { join } from 'node:path';
import type { DaemonConfig } from '../../shared/config/daemon-config.js';
import { createLogger, type Logger } from '../../shared/telemetry/logger.js';
import { daemonPaths } from '../daemon-paths.js';
import { startWorkerPipeline, type RunningWorker } from '../worker-wiring.js';
import { parseToWorker, type FromWorker } from './ipc-messages.js';
import { acquireLock, LockedError } from './state-lock.js';

/** How often the worker tells the supervisor its RSS and message count. */
export const HEARTBEAT_MS = 1000;

function send(msg: FromWorker): void {
  if (process.connected) process.send?.(msg);
}

/**
 * The worker process (worker-entry.js, forked by the supervisor). It waits for the
 * sockets and config over IPC, accepts at once, owns the spool once told to `activate`, and
 * stops gracefully on `stop`, SIGTERM or SIGINT (systemd may signal the whole cgroup).
 */
export function runWorker(): void {
  if (!process.send) {
    console.error('the daemon worker is started by `bitville-apm daemon`, not by hand');
    process.exit(2);
  }
  let udpSocket: UdpSocket | null = null;
  let worker: RunningWorker | null = null;
  let log: Logger | null = null;
  let activated = false;
  let activate: () => void = () => undefined;
  const spoolFree = new Promise<void>((resolve) => (activate = resolve));
  let exiting = false;
  let dataDir: string | null = null;
  let listenRequested = false;

  function listenNow(w: RunningWorker): void {
    w.listen().then(
      () => send({ type: 'ready' }),
      (err: unknown) => {
        log?.fatal({ err }, 'standby worker could not listen');
        process.exit(1);
      },
    );
  }

  function stopAndExit(reason: string, drainPath?: string): void {
    if (exiting) {
      log?.warn({ reason }, 'second stop request: exiting now');
      process.exit(1);
    }
    exiting = true;
    log?.info({ reason }, 'worker stopping: draining connections and flushing memory to the spool');
    const w = worker;
    if (!w) process.exit(0);
    w.stop(drainPath).then(
      () => process.exit(0),
      (err: unknown) => {
        log?.fatal({ err }, 'worker graceful stop failed');
        process.exit(1);
      },
    );
  }

  process.on('message', (raw: unknown, handle: unknown) => {
    const msg = parseToWorker(raw);
    if (!msg) return;
    switch (msg.type) {
      case 'udp-socket':
        udpSocket = handle as UdpSocket;
        return;
      case 'start': {
        if (worker || !handle) return;
        // Validated by the supervisor before it forks us (at start and on SIGHUP); not parsing it
        // again keeps the schema library out of the worker (~15 MB of RSS per worker).
        const config = msg.config as DaemonConfig;
        const logger = createLogger({ level: config.log.level, format: config.log.format, base: { role: 'daemon-worker', generation: msg.generation } });
        log = logger;
        dataDir = config.dataDir;
        if (msg.activate) activated = true;
        if (msg.activate) activate();
        const beatNow = (): void => {
          void worker?.requestCount().then((requestCount) => send({ type: 'heartbeat', rssBytes: process.memoryUsage.rss(), requestCount }), () => undefined);
        };
        startWorkerPipeline(config, logger, { unix: { handle: handle as object, inode: msg.socketInode }, udp: udpSocket }, spoolFree, { listenNow: msg.listen, onLimit: beatNow }).then(
          (w) => {
            worker = w;
            if (msg.listen) send({ type: 'ready' });
            else if (listenRequested) listenNow(w);
            w.active.then(
              () => {
                send({ type: 'active' });
                logger.info({ mode: config.buffer.mode }, 'worker active: spool recovered, forwarding');
              },
              (err: unknown) => {
                logger.fatal({ err }, `worker could not take over the spool: ${(err as Error).message}`);
                process.exit(1);
              },
            );
            const beat = setInterval(() => {
              void w.requestCount().then((requestCount) => send({ type: 'heartbeat', rssBytes: process.memoryUsage.rss(), requestCount }), () => undefined);
            }, HEARTBEAT_MS);
            beat.unref();
          },
          (err: unknown) => {
            logger.fatal({ err }, `worker failed to start: ${(err as Error).message}`);
            process.exit(1);
          },
        );
        return;
      }
      case 'activate':
        activated = true;
        activate();
        return;
      case 'listen':
        listenRequested = true;
        if (worker) listenNow(worker);
        return;
      case 'stop':
        if (!exiting) stopAndExit('supervisor', msg.drainPath); // only a second signal means exit now
        return;
      case 'health':
        worker?.report().then(
          (r) => send({ type: 'health', id: msg.id, status: r.status, body: r.body }),
          (err: unknown) => log?.error({ err }, 'health report failed'),
        );
        return;
      case 'metrics':
        worker?.metricsText().then(
          (m) => send({ type: 'metrics', id: msg.id, contentType: m.contentType, text: m.text }),
          (err: unknown) => log?.error({ err }, 'metrics failed'),
        );
        return;
      case 'datagram':
        worker?.receiveDatagram(Buffer.from(msg.base64, 'base64'));
        return;
    }
  });

  process.on('SIGTERM', () => stopAndExit('SIGTERM'));
  process.on('SIGINT', () => stopAndExit('SIGINT'));

  // The supervisor is gone (killed): flush if we can own the spool alone, else leave it as a crash would.
  process.on('disconnect', () => {
    if (exiting) return;
    const w = worker;
    if (!w || !activated) process.exit(1); // never owned the spool; what it held was not yet accepted
    void takeOverLock().then((ok) => (ok ? stopAndExit('supervisor gone') : process.exit(1)));
  });

  async function takeOverLock(): Promise<boolean> {
    if (!dataDir) return false;
    try {
      await acquireLock(join(daemonPaths(dataDir).state, 'daemon.lock'));
      return true; // released by the next daemon as stale, since we exit after the flush
    } catch (err) {
      if (!(err instanceof LockedError)) log?.error({ err }, 'could not take over the lock');
      return false; // a new daemon already owns the spool: do not write it
    }
  }

  const onBug = (err: unknown): void => {
    log?.fatal({ err }, 'uncaught error: flushing memory to the spool and exiting');
    const w = worker;
    if (!w) process.exit(1);
    w.emergencyFlush().finally(() => process.exit(1));
  };
  process.on('uncaughtException', onBug);
  process.on('unhandledRejection', onBug);
}
