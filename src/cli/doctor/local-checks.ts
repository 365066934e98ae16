import { existsSync, lstatSync, readdirSync, statSync, statfsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import type { Account, Accounts } from './accounts.js';
import { fail, formatBytes, ok, warn, type CheckResult } from './check-result.js';
import { accessProblem, describeMode, R, W, X } from './path-access.js';

const START = 'start the daemon (systemctl start bitville-apm-daemon; its log: journalctl -u bitville-apm-daemon)';

function fileKind(path: string): string {
  const st = lstatSync(path);
  return st.isDirectory() ? 'a directory' : st.isSymbolicLink() ? 'a symlink' : st.isFile() ? 'a regular file' : 'not a socket';
}

/** Connects and closes at once: the daemon counts nothing for a connection that sends nothing. */
function tryConnect(path: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    const done = (why: string | null) => {
      s.destroy();
      resolve(why);
    };
    s.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    s.once('connect', () => done(null));
    s.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

/** The daemon's socket exists, is a socket, every FPM user may connect, and the daemon accepts. */
export async function checkSocket(path: string, fpmUsers: readonly Account[], accounts: Accounts, timeoutMs: number): Promise<CheckResult> {
  if (!existsSync(path)) return fail('socket', `${path} does not exist (the daemon's \`socket:\`)`, START);
  const st = statSync(path);
  if (!st.isSocket()) return fail('socket', `${path} is ${fileKind(path)}, not a socket`, `remove it (rm ${path}), then ${START}`);
  const denied = fpmUsers.map((u) => accessProblem(path, u, W, 'connect to', accounts)).filter((p): p is string => p !== null);
  if (denied.length > 0) return fail('socket', denied.join('; '), `the daemon makes its socket 0666 and its folder 0755: check who changed them, or restart the daemon`);
  const refused = await tryConnect(path, timeoutMs);
  if (refused === 'ECONNREFUSED') return fail('socket', `${path} is a socket nobody listens on (left by a daemon that died)`, START);
  if (refused !== null) return fail('socket', `connecting to ${path} failed: ${refused}`, START);
  return ok('socket', `${path} is a socket (${describeMode(st, accounts)}), ${fpmUsers.map((u) => u.name).join(', ')} may connect, the daemon accepts connections`);
}

/** The inbox exists, every FPM user can create files in it, the daemon can list, read and delete them. */
export function checkInbox(inbox: string, fpmUsers: readonly Account[], daemon: Account, accounts: Accounts): CheckResult {
  if (!existsSync(inbox)) return fail('inbox', `${inbox} does not exist`, `${START}: it creates the folder mode 1777; or install -d -m 1777 -o ${daemon.name} ${inbox}`);
  if (!statSync(inbox).isDirectory()) return fail('inbox', `${inbox} is ${fileKind(inbox)}, not a directory`, `remove it, then ${START}`);
  const problems = [
    ...fpmUsers.map((u) => accessProblem(inbox, u, W | X, 'write files into', accounts)),
    accessProblem(inbox, daemon, R | W | X, 'read and remove files in', accounts),
  ].filter((p): p is string => p !== null);
  const st = statSync(inbox);
  if (problems.length > 0) return fail('inbox', `${problems.join('; ')} (the daemon runs as ${daemon.name})`, `chmod 1777 ${inbox} and chown ${daemon.name} ${inbox} (the daemon sets 1777 itself at start); every folder above it needs o+x`);
  let waiting = 0;
  try {
    waiting = readdirSync(inbox).filter((f) => f.startsWith('profile_')).length;
  } catch {
    // listed above as a permission problem if it were one for the daemon
  }
  const note = waiting > 0 ? `, ${waiting} profile file(s) waiting` : '';
  return ok('inbox', `${inbox} (${describeMode(st, accounts)}): ${fpmUsers.map((u) => u.name).join(', ')} may write, the daemon (${daemon.name}) may read and remove${note}`);
}

function spoolBytes(dir: string): number {
  try {
    return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  } catch {
    return 0;
  }
}

/** Free space where the spool lives against spool.minFreeBytes and spool.maxBytes. */
export function checkDisk(spoolDir: string, spool: { maxBytes: number; minFreeBytes: number }): CheckResult {
  let at = spoolDir;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at); // not created yet: its filesystem is its parent's
  const fs = statfsSync(at);
  const free = fs.bavail * fs.bsize;
  const used = spoolBytes(spoolDir);
  const room = `${formatBytes(free)} free on the filesystem of ${spoolDir}`;
  if (free < spool.minFreeBytes) {
    return fail('disk', `${room}, below spool.minFreeBytes (${formatBytes(spool.minFreeBytes)}): the daemon spools nothing more and drops by spool.whenFull while the listener is away`, 'free disk space there, or lower spool.minFreeBytes');
  }
  const canGrow = free - spool.minFreeBytes;
  const wants = Math.max(0, spool.maxBytes - used);
  if (canGrow < wants) {
    return warn('disk', `${room}: the spool (${formatBytes(used)} now) can grow by ${formatBytes(canGrow)} before it reaches spool.minFreeBytes, less than spool.maxBytes (${formatBytes(spool.maxBytes)}) allows`, 'free disk space, or lower spool.maxBytes to what the disk holds');
  }
  return ok('disk', `${room}; the spool (${formatBytes(used)} now) may grow to spool.maxBytes (${formatBytes(spool.maxBytes)}) and keep spool.minFreeBytes (${formatBytes(spool.minFreeBytes)}) free`);
}
