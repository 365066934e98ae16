import type { DaemonConfig } from './daemon-config.js';

/*
 * What the worker derives from its validated config. Apart from daemon-config.ts so that the worker
 * imports the config as a type only: the schema (and zod, ~9 MB of RSS per worker, measured) stays in the process that
 * validates the file (issue 10).
 */

/** The listener URLs the forwarder sends to: `forward.urls`, else the one `forward.url`, else none. */
export function forwardUrls(f: DaemonConfig['forward']): string[] {
  if (f.urls && f.urls.length > 0) return [...f.urls];
  return f.url ? [f.url] : [];
}

/** The effective linger: the DESIGN name `flushIntervalMs` wins when it is set. */
export function forwardLingerMs(f: DaemonConfig['forward']): number {
  return f.flushIntervalMs ?? f.lingerMs;
}
