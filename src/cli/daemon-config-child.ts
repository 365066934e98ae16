import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DaemonConfig } from '../shared/config/daemon-config.js';
import { ConfigError } from '../shared/config/config-error.js';

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));

/**
 * Validates the daemon's config (file, environment, flags) in a short-lived child process
 * (`bitville-apm __daemon-config <daemon flags>`), at start and on every SIGHUP. The schema and
 * YAML libraries then never load into the supervisor, which lives as long as the daemon: ~20 MB
 * of RSS it does not carry (issue 10). Costs one Node start (~0.1 s) per validation.
 * Throws ConfigError with every problem, as loading in-process would.
 */
export function loadDaemonConfigInChild(daemonArgs: readonly string[]): Promise<DaemonConfig> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, '__daemon-config', ...daemonArgs], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      let answer: { config?: DaemonConfig; problems?: string[] } | null = null;
      try {
        answer = JSON.parse(stdout) as { config?: DaemonConfig; problems?: string[] };
      } catch {
        answer = null;
      }
      if (answer?.config) resolve(deepFreeze(answer.config));
      else if (answer?.problems) reject(new ConfigError(answer.problems));
      else reject(new Error(`config validation failed: ${(stderr || err?.message || 'no answer').trim().split('\n')[0]}`));
    });
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
