import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CLI } from './daemon-process.js';
import { spawnTracked, type TrackedProcess } from './tracked-process.js';
import { waitFor } from './wait-for.js';

/**
 * What systemd does for a `.socket` unit plus a service with Restart=always, in a few lines of
 * Python (no systemd runs in a test sandbox): bind and listen on the Unix socket, never accept,
 * start the command with the socket as fd 3 (LISTEN_FDS=1, LISTEN_PID=its pid), and start it
 * again 100 ms after it exits, until SIGTERM (passed on to the command). It prints
 * `started <pid>` and `exited <pid> <code>` lines. Python, because a Node process cannot hold a
 * listening socket without accepting from it.
 */
const ACTIVATOR = String.raw`
import os, signal, socket, subprocess, sys, time
path, cmd = sys.argv[1], sys.argv[2:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s.bind(path)
os.chmod(path, 0o666)
s.listen(4096)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
child = None
stopping = False
def on_term(signum, frame):
    global stopping
    stopping = True
    if child is not None and child.poll() is None:
        child.send_signal(signal.SIGTERM)
signal.signal(signal.SIGTERM, on_term)
while not stopping:
    child = subprocess.Popen(['sh', '-c', 'export LISTEN_PID=$$ LISTEN_FDS=1; exec "$@"', 'sh'] + cmd, pass_fds=(3,))
    print('started %d' % child.pid, flush=True)
    code = child.wait()
    print('exited %d %d' % (child.pid, code), flush=True)
    time.sleep(0.1)
`;

export interface ActivatedDaemon {
  activator: TrackedProcess;
  socketPath: string;
  dataDir: string;
  output(): string;
  /** Pids of the daemon processes started so far, in order. */
  starts(): number[];
  /** Exit codes by pid, of those that have exited. */
  exits(): Map<number, number>;
  /** Waits until the n-th daemon process (1-based) has written daemon.json and answers /health; returns its health URL. */
  ready(n: number): Promise<{ pid: number; healthUrl: string }>;
}

/** Starts `bitville-apm daemon` under the activator, with a config file in `dir` merged over test defaults. */
export function startActivatedDaemon(dir: string, config: Record<string, unknown> = {}): ActivatedDaemon {
  const socketPath = join(dir, 'daemon.sock');
  const dataDir = join(dir, 'data');
  const file = join(dir, 'daemon.yaml');
  writeFileSync(file, stringify({ socket: socketPath, dataDir, health: '127.0.0.1:0', forward: { url: null }, ...config }));
  // Its own process group: the cleanup's SIGKILL takes the daemon with the activator.
  const activator = spawnTracked('python3', ['-c', ACTIVATOR, socketPath, process.execPath, CLI, 'daemon', '--config', file], { detached: true });
  const starts = (): number[] => [...activator.output().matchAll(/^started (\d+)$/gm)].map((m) => Number(m[1]));
  const exits = (): Map<number, number> => new Map([...activator.output().matchAll(/^exited (\d+) (-?\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2])]));
  return {
    activator,
    socketPath,
    dataDir,
    output: activator.output,
    starts,
    exits,
    async ready(n) {
      const pid = await waitFor(() => starts()[n - 1], { timeoutMs: 15_000, what: `daemon process #${n}` });
      const info = await waitFor(
        () => {
          const s = JSON.parse(readFileSync(join(dataDir, 'state', 'daemon.json'), 'utf8')) as { pid: number; health: string };
          return s.pid === pid ? s : null;
        },
        { timeoutMs: 15_000, what: `daemon.json of process #${n}:\n${activator.output()}` },
      );
      return { pid, healthUrl: `http://${info.health}` };
    },
  };
}
