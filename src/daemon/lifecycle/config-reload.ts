import type { DaemonConfig } from '../../shared/config/daemon-config.js';
import type { Logger } from '../../shared/telemetry/logger.js';

/** Keys that name sockets and folders: a reload cannot move them (the supervisor owns them). */
export const RESTART_ONLY_KEYS = ['socket', 'udp', 'dataDir', 'health'] as const;

export interface ReloadPlan {
  config: DaemonConfig;
  /** Restart-only keys the new file changed: kept as they are, and worth a warning. */
  ignored: Array<{ key: (typeof RESTART_ONLY_KEYS)[number]; current: unknown; requested: unknown }>;
}

/** SIGHUP: the new config, except for the keys that need a restart (docs/daemon.md, "Reload"). */
export function planReload(current: DaemonConfig, next: DaemonConfig): ReloadPlan {
  const kept: Partial<Record<(typeof RESTART_ONLY_KEYS)[number], unknown>> = {};
  const ignored: ReloadPlan['ignored'] = [];
  for (const key of RESTART_ONLY_KEYS) {
    if (JSON.stringify(next[key]) !== JSON.stringify(current[key])) ignored.push({ key, current: current[key], requested: next[key] });
    kept[key] = current[key];
  }
  return { config: Object.freeze({ ...next, ...kept }) as DaemonConfig, ignored };
}

/** SIGHUP with a config file that does not validate: one line with every problem; the running config stays. */
export function logRejectedReload(log: Logger, err: unknown): void {
  const detail = (err as Error).message.replace(/\s*\n\s*/g, ' ');
  log.error({ error_code: 'config_invalid' }, `SIGHUP: config reload rejected, keeping the current config: ${detail}`);
}
