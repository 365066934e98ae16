import type { Logger } from 'pino';

export interface SignalTargets {
  log: Logger;
  /** Graceful stop; the process exits 0 when it resolves. */
  stop: () => Promise<void>;
  /** Second signal: give up at once (the supervisor kills its workers). */
  killNow: () => void;
  /** SIGHUP. */
  reload: () => void;
  /** After an uncaught error, before exiting: the one-process daemon writes its memory to the spool. */
  flushAfterBug?: () => Promise<void>;
}

/**
 * The supervisor's signals (DESIGN section 5). SIGTERM/SIGINT: graceful stop, exit 0; a second
 * signal means exit now. SIGHUP: reload the config. An exception that reaches the top is a bug:
 * log it and exit 1; the workers notice the closed IPC channel and flush to the spool themselves.
 */
export function installSignalHandlers(t: SignalTargets): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      t.log.warn({ signal }, 'second signal: exiting now');
      t.killNow();
      process.exit(1);
    }
    stopping = true;
    t.log.info({ signal }, 'stopping: the worker drains connections and flushes memory to the spool');
    t.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        t.log.fatal({ err }, 'graceful stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => {
    t.log.info('SIGHUP: reloading the config file');
    t.reload();
  });
  const onBug = (err: unknown): void => {
    const flush = t.flushAfterBug;
    if (!flush) {
      t.log.fatal({ err }, 'uncaught error in the supervisor: exiting; the worker flushes its memory to the spool');
      process.exit(1);
    }
    t.log.fatal({ err }, 'uncaught error: flushing memory to the spool and exiting');
    flush().finally(() => process.exit(1));
  };
  process.on('uncaughtException', onBug);
  process.on('unhandledRejection', onBug);
}
