/**
 * Bad configuration at boot: every problem, each naming the key, the value and what was expected.
 * Its own module, so code that only reports it (the CLI) need not load the YAML and schema libraries.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}
