import { createLogger } from '../shared/telemetry/logger.js';
import { installSignalHandlers } from '../daemon/lifecycle/signals.js';
import { takeActivatedSockets } from '../daemon/lifecycle/socket-activation.js';
import { createSupervisor, type Supervisor } from '../daemon/lifecycle/supervisor.js';
import { exitOnConfigError } from './common.js';
import { loadDaemonConfigInChild } from './daemon-config-child.js';
import { reportStartFailure } from './fatal.js';

/**
 * `bitville-apm daemon`: the supervisor process, or, when systemd passed the listening socket
 * (socket activation), the whole daemon in one process. `daemonArgs` are its flags, as given.
 */
export async function runDaemon(daemonArgs: readonly string[]): Promise<void> {
  const activated = takeActivatedSockets(process.env, process.pid); // before the config check's child inherits them
  const load = () => loadDaemonConfigInChild(daemonArgs);
  const config = await load().catch(exitOnConfigError);
  const log = createLogger({ level: config.log.level, format: config.log.format, base: { role: 'daemon' } });
  let daemon: Supervisor;
  let flushAfterBug: (() => Promise<void>) | undefined;
  const listenFd = activated?.[0];
  if (listenFd !== undefined) {
    if (activated && activated.length > 1) log.warn({ fds: activated.length }, 'systemd passed more than one socket; using the first (fd 3) as the daemon socket');
    // Loaded only here: the supervisor process never carries the worker's pipeline.
    const { createOneProcessDaemon } = await import('../daemon/lifecycle/one-process.js');
    const one = createOneProcessDaemon({ config, loadConfig: load, log, listenFd, exit: (code) => process.exit(code) });
    daemon = one;
    flushAfterBug = () => one.emergencyFlush();
  } else {
    // SIGHUP: the same file, environment and flags as at start, validated the same way
    daemon = createSupervisor({ config, loadConfig: load, log });
  }
  // Handlers first: a SIGTERM that arrives while the daemon starts must still mean a graceful
  // stop (once start-up is over), never the default action that kills the process outright.
  const started = daemon.start();
  const afterStart = started.then(
    () => undefined,
    () => undefined,
  );
  installSignalHandlers({
    log,
    stop: () => afterStart.then(() => daemon.stop()),
    killNow: () => daemon.killNow(),
    reload: () => void afterStart.then(() => daemon.reload()),
    flushAfterBug,
  });
  try {
    await started;
  } catch (err) {
    reportStartFailure('daemon', err, log);
    process.exitCode = 1;
    setImmediate(() => process.exit(1));
  }
}
