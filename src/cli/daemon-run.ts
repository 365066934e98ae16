import { createLogger } from '../shared/telemetry/logger.js';
import { installSignalHandlers } from '../daemon/lifecycle/signals.js';
import { createSupervisor } from '../daemon/lifecycle/supervisor.js';
import { exitOnConfigError } from './common.js';
import { loadDaemonConfigInChild } from './daemon-config-child.js';
import { reportStartFailure } from './fatal.js';

/** `bitville-apm daemon`: the supervisor process. `daemonArgs` are its flags, as given. */
export async function runDaemon(daemonArgs: readonly string[]): Promise<void> {
  const load = () => loadDaemonConfigInChild(daemonArgs);
  const config = await load().catch(exitOnConfigError);
  const log = createLogger({ level: config.log.level, format: config.log.format, base: { role: 'daemon' } });
  // SIGHUP: the same file, environment and flags as at start, validated the same way
  const supervisor = createSupervisor({ config, loadConfig: load, log });
  // Handlers first: a SIGTERM that arrives while the daemon starts must still mean a graceful
  // stop (once start-up is over), never the default action that kills the process outright.
  const started = supervisor.start();
  const afterStart = started.then(
    () => undefined,
    () => undefined,
  );
  installSignalHandlers({
    log,
    stop: () => afterStart.then(() => supervisor.stop()),
    killNow: () => supervisor.killNow(),
    reload: () => void afterStart.then(() => supervisor.reload()),
  });
  try {
    await started;
  } catch (err) {
    reportStartFailure('daemon', err, log);
    process.exitCode = 1;
    setImmediate(() => process.exit(1));
  }
}
