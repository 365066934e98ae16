import { daemonConfigSchema, type DaemonConfig } from '../shared/config/daemon-config.js';
import { deepMerge, loadConfig } from '../shared/config/load-config.js';
import { logOverrides } from './common.js';

/** The flags `bitville-apm daemon` takes (cli/daemon.ts). */
export interface DaemonFlags {
  config?: string;
  socket?: string;
  dataDir?: string;
  health?: string;
  udp?: string;
  bufferMode?: string;
  forwardUrl?: string;
  forwardToken?: string;
  logLevel?: string;
  logFormat?: string;
}

export function daemonOverrides(f: DaemonFlags): Record<string, unknown> {
  return deepMerge(logOverrides(f), {
    socket: f.socket,
    dataDir: f.dataDir,
    health: f.health,
    udp: f.udp,
    buffer: { mode: f.bufferMode },
    forward: { url: f.forwardUrl, token: f.forwardToken },
  });
}

/** File + environment + flags, validated (throws ConfigError listing every problem). Loads zod and yaml. */
export function loadDaemonConfig(f: DaemonFlags): Readonly<DaemonConfig> {
  return loadConfig(daemonConfigSchema, { file: f.config, overrides: daemonOverrides(f) });
}
