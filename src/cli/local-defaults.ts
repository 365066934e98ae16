import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { UpInfo } from './up.js';

/**
 * Client commands (send, status) default to what `bitville-apm up` started in `--up-dir`
 * (./.bitville), so a newcomer types no paths; production defaults apply otherwise.
 */
export function readUpInfo(upDir: string): UpInfo | null {
  try {
    return JSON.parse(readFileSync(join(resolve(upDir), 'up.json'), 'utf8')) as UpInfo;
  } catch {
    return null;
  }
}
