import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A local user as the kernel sees it for permission checks: uid, primary gid and every group. */
export interface Account {
  name: string;
  uid: number;
  gid: number;
  groups: ReadonlySet<number>;
}

export interface Accounts {
  /** A user by name or numeric uid; null when /etc/passwd does not know it. */
  find(nameOrUid: string | number): Account | null;
  userName(uid: number): string;
  groupName(gid: number): string;
}

function lines(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

/**
 * Reads `<etc>/passwd` and `<etc>/group` (local files only: users from LDAP or NIS are not seen,
 * and the doctor says it cannot check them rather than guessing).
 */
export function readAccounts(etc = '/etc'): Accounts {
  const users = lines(join(etc, 'passwd')).map(([name = '', , uid = '', gid = '']) => ({ name, uid: Number(uid), gid: Number(gid) }));
  const groups = lines(join(etc, 'group')).map(([name = '', , gid = '', members = '']) => ({ name, gid: Number(gid), members: members.split(',').filter(Boolean) }));
  const account = (u: { name: string; uid: number; gid: number }): Account => ({
    ...u,
    groups: new Set([u.gid, ...groups.filter((g) => g.members.includes(u.name)).map((g) => g.gid)]),
  });
  return {
    find(nameOrUid) {
      const asNumber = typeof nameOrUid === 'number' ? nameOrUid : /^\d+$/.test(nameOrUid) ? Number(nameOrUid) : null;
      const u = users.find((x) => (asNumber !== null ? x.uid === asNumber : x.name === nameOrUid));
      if (u) return account(u);
      // A bare uid without a passwd entry still has a uid: check it with no extra groups.
      return asNumber !== null ? { name: String(asNumber), uid: asNumber, gid: -1, groups: new Set() } : null;
    },
    userName: (uid) => users.find((u) => u.uid === uid)?.name ?? String(uid),
    groupName: (gid) => groups.find((g) => g.gid === gid)?.name ?? String(gid),
  };
}
