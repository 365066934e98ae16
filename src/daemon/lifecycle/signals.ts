import type { Logger } from 'pino';

export interface SignalTargets {
  log: Logger;
  /** Graceful stop; the process exits 0 when it resolves. */
  stop: () => Promise<void>;
  /** Memory to spool without waiting for clients (after a bug). */
  emergencyFlush: () => Promise<void>;
}

/**
 * SIGTERM/SIGINT: graceful stop, exit 0. A second signal means exit now.
 * An exception that reaches the top is a bug: flush memory to the spool, log, exit 1 so a
 * supervisor restarts us (STYLE "Errors").
 */
export function installSignalHandlers(t: SignalTargets): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      t.log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    t.log.info({ signal }, 'stopping: draining connections and flushing memory to the spool');
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
  const onBug = (err: unknown): void => {
    t.log.fatal({ err }, 'uncaught error: flushing memory to the spool and exiting');
    t.emergencyFlush().finally(() => process.exit(1));
  };
  process.on('uncaughtException', onBug);
  process.on('unhandledRejection', onBug);
}
