import { realpathSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import type { Account, Accounts } from './accounts.js';

export const R = 4;
export const W = 2;
export const X = 1;

/** The permission bits `who` gets on a file from its mode, owner and group (root gets all). */
function granted(st: Stats, who: Account): number {
  if (who.uid === 0) return R | W | X;
  if (st.uid === who.uid) return (st.mode >> 6) & 7;
  if (who.groups.has(st.gid)) return (st.mode >> 3) & 7;
  return st.mode & 7;
}

/** `0755 bitville-apm:bitville-apm`: what a person compares with `ls -l`. */
export function describeMode(st: Stats, accounts: Accounts): string {
  return `${(st.mode & 0o7777).toString(8).padStart(4, '0')} ${accounts.userName(st.uid)}:${accounts.groupName(st.gid)}`;
}

/**
 * Why `who` cannot get `bits` (R/W/X) on `path`, or null when it can: every directory above it
 * must let the user search it (x), and the path itself must grant the bits. Follows symlinks
 * (/var/run → /run) as the kernel does. Mode bits only: ACLs and SELinux/AppArmor are not read.
 */
export function accessProblem(path: string, who: Account, bits: number, verb: string, accounts: Accounts): string | null {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${path} does not exist` : `${path} cannot be examined (${code ?? 'error'}): run the doctor as root`;
  }
  const chain: string[] = [];
  for (let p = dirname(real); ; p = dirname(p)) {
    chain.unshift(p);
    if (p === dirname(p)) break;
  }
  for (const dir of chain) {
    const st = statSync(dir);
    if ((granted(st, who) & X) === 0) return `${who.name} cannot ${verb} ${path}: it cannot enter ${dir} (${describeMode(st, accounts)})`;
  }
  const st = statSync(real);
  if ((granted(st, who) & bits) !== bits) return `${who.name} cannot ${verb} ${path} (${describeMode(st, accounts)})`;
  return null;
}
