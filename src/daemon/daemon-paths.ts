import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';

// Kept apart from main.ts so the supervisor can use it without loading the worker's pipeline.

/** Where a running daemon says it can be reached; tests and `bitville-apm status` read it. */
export interface DaemonRuntimeInfo {
  /** The supervisor's pid: the process operators signal. */
  pid: number;
  socket: string;
  health: string;
  udp: string | null;
  dataDir: string;
}

export function daemonPaths(dataDir: string) {
  const root = resolve(dataDir);
  return {
    root,
    spool: join(root, 'buffer'),
    inbox: join(root, 'inbox'),
    quarantine: join(root, 'quarantine'),
    state: join(root, 'state'),
  };
}

export async function ensureDaemonDirs(dataDir: string): Promise<ReturnType<typeof daemonPaths>> {
  const paths = daemonPaths(dataDir);
  for (const dir of [paths.root, paths.spool, paths.inbox, paths.quarantine, paths.state]) {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new Error(`cannot create ${dir}: ${(err as Error).message} (set dataDir to a writable folder)`);
    }
  }
  return paths;
}

