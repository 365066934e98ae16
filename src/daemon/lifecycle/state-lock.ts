import { open, readFile, unlink } from 'node:fs/promises';

export class LockedError extends Error {
  constructor(path: string, pid: number) {
    super(`another daemon (pid ${pid}) holds ${path}: two daemons must not share one spool`);
    this.name = 'LockedError';
  }
}

/**
 * A pid lock file in the state directory (DESIGN section 5). A lock left by a process that is no
 * longer alive (crash, SIGKILL) is taken over; a live holder makes start-up fail.
 */
export async function acquireLock(path: string): Promise<{ release(): Promise<void> }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return {
        async release() {
          await unlink(path).catch(() => undefined);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw new LockedError(path, pid);
    await unlink(path).catch(() => undefined); // stale: its owner is gone
  }
  throw new Error(`could not acquire ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
