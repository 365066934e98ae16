import { spawnSync } from 'node:child_process';

/** The short commit being measured, flagged when src/ has uncommitted changes: every result names its code. */
export function gitCommit(): string {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' });
  return r.status === 0 ? `${r.stdout.trim()}${dirty.stdout.trim() ? ' (src/ modified)' : ''}` : 'unknown';
}
