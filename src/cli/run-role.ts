import type { Logger } from '../shared/telemetry/logger.js';
import { reportStartFailure } from './fatal.js';

/**
 * Starts a long-running role (listener, pg-agent) and keeps it until SIGTERM or SIGINT: a start
 * failure is one plain sentence and exit 1; a second signal during the stop means now; an uncaught
 * error exits 1 so the service manager restarts the role from a clean state.
 */
export async function runRoleUntilSignal(role: string, log: Logger, start: () => Promise<{ stop(): Promise<void> }>): Promise<void> {
  let running: { stop(): Promise<void> };
  try {
    running = await start();
  } catch (err) {
    reportStartFailure(role, err, log);
    process.exitCode = 1;
    setImmediate(() => process.exit(1));
    return;
  }
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'stopping');
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.fatal({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, `uncaught error: exiting so a supervisor restarts the ${role}`);
    process.exit(1);
  });
}
