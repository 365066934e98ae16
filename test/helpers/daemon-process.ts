import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { signal, spawnTracked, track } from './tracked-process.js';
import { waitFor } from './wait-for.js';

export const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname; // dist/test/helpers -> dist/src/cli

export interface DaemonHandle {
  proc: ChildProcess;
  dir: string;
  dataDir: string;
  socketPath: string;
  healthUrl: string;
  udp: string | null;
  output(): string;
  health(): Promise<{ status: number; body: HealthBody }>;
  /** Pid of the worker that currently answers /health. */
  workerPid(): Promise<number>;
  metricsText(): Promise<string>;
  accepted(): Promise<number>;
  /** Signals the supervisor; SIGKILL kills the supervisor and its worker together (a crash). */
  kill(signal: NodeJS.Signals): void;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

export interface HealthBody {
  status: string;
  problems: string[];
  stats: {
    worker: { memory_usage_mb: number; request_count: number; restarts: number; pid: number | null; generation: number | null };
    buffer: Record<string, number | string>;
    ingest: {
      accepted: number;
      rejected: number;
      rejected_by_reason: Record<string, number>;
      accepted_by_source: Record<string, number>;
      recovered_from_spool: number;
      quarantined: Record<string, number>;
      connections_closed_by_reason: Record<string, number>;
      defaults_filled: number;
      inbox_files: Record<string, number>;
    };
    dropped: Record<string, number>;
    [k: string]: unknown;
  };
  /** Added by the supervisor to every answer. */
  supervisor: { pid: number; crashes: number; restarts_by_reason: Record<string, number>; config_reloads: number; config_reload_failures: number };
}

export function tempDir(prefix = 'bitville-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A daemon process that was started but may not be ready yet. */
export interface LaunchedDaemon {
  proc: ChildProcess;
  dir: string;
  dataDir: string;
  socketPath: string;
  output(): string;
  exited: Promise<number | string>;
  /** Resolves once daemon.json names this process (the daemon is ready). */
  ready(): Promise<DaemonHandle>;
}

/**
 * Starts `bitville-apm daemon` as a real child process with a config file in `dir`.
 * `config` is merged over test defaults: socket and data in `dir`, health on a free port.
 */
export async function spawnDaemon(dir: string, config: Record<string, unknown> = {}, extraArgs: string[] = []): Promise<DaemonHandle> {
  return launchDaemon(dir, config, extraArgs).ready();
}

/** Like spawnDaemon, without waiting: for tests of what happens while it starts. */
export function launchDaemon(dir: string, config: Record<string, unknown> = {}, extraArgs: string[] = []): LaunchedDaemon {
  // Forwarding is off unless a test configures a listener, so the spool shows everything accepted.
  const base = { socket: join(dir, 'daemon.sock'), dataDir: join(dir, 'data'), health: '127.0.0.1:0', log: { level: 'info' }, forward: { url: null } };
  const file = join(dir, 'daemon.yaml');
  writeFileSync(file, stringify({ ...base, ...config }));
  // Its own process group, so a test's SIGKILL takes the worker down with the supervisor.
  const { proc, output, exited } = spawnTracked(process.execPath, [CLI, 'daemon', '--config', file, ...extraArgs], { detached: true });
  const dataDir = String((config.dataDir as string | undefined) ?? base.dataDir);
  const socketPath = String((config.socket as string | undefined) ?? base.socket);
  const ready = async (): Promise<DaemonHandle> => {
    const info = await Promise.race([
      waitFor(
        () => {
          const s = JSON.parse(readFileSync(join(dataDir, 'state', 'daemon.json'), 'utf8')) as { pid: number; health: string; udp: string | null };
          return s.pid === proc.pid ? s : null;
        },
        { timeoutMs: 15_000, what: 'daemon.json of the new daemon' },
      ),
      exited.then((code) => {
        throw new Error(`daemon exited (${code}) before it was ready:\n${output()}`);
      }),
    ]);
    return daemonHandle(proc, dir, dataDir, socketPath, `http://${info.health}`, info.udp, output, exited);
  };
  return { proc, dir, dataDir, socketPath, output, exited, ready };
}

function daemonHandle(
  proc: ChildProcess,
  dir: string,
  dataDir: string,
  socketPath: string,
  healthUrl: string,
  udp: string | null,
  output: () => string,
  exited: Promise<number | string>,
): DaemonHandle {
  const handle: DaemonHandle = {
    proc,
    dir,
    dataDir,
    socketPath,
    healthUrl,
    udp,
    output,
    async health() {
      const res = await fetch(`${healthUrl}/health`);
      return { status: res.status, body: (await res.json()) as HealthBody };
    },
    async metricsText() {
      return (await fetch(`${healthUrl}/metrics`)).text();
    },
    async accepted() {
      return (await handle.health()).body.stats.ingest.accepted;
    },
    async workerPid() {
      const pid = (await handle.health()).body.stats.worker.pid;
      if (typeof pid !== 'number') throw new Error('no worker is running');
      return pid;
    },
    kill: (sig) => (sig === 'SIGKILL' ? signal(proc, 'SIGKILL') : proc.kill(sig)), // the whole group, like a host crash
    exited,
  };
  return handle;
}

/** Runs the CLI to completion and returns its exit code and output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = track(spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env }));
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
