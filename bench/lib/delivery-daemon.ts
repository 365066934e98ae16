/**
 * The daemon as the delivery benchmark runs it: a real `bitville-apm daemon` process with a YAML
 * config (forwarding on or off), its /health read over plain HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { sumSeries } from '../../test/helpers/prometheus-text.js';
import { sleep, stopChild, track } from './child.js';
import { getJson, getText } from './get-json.js';
import { workerExecArgv } from '../../src/daemon/lifecycle/worker-node-flags.js';

const DAEMON_MAIN = new URL('../../src/cli/main.js', import.meta.url);

export interface DaemonHealth {
  stats: {
    ingest: { accepted: number; rejected: number; recovered_from_spool: number };
    forward: { items_sent?: number; bytes_sent?: number; wire_bytes_sent?: number; batches_sent?: number; failures_by_kind?: Record<string, number> };
    dropped: Record<string, number>;
  };
}

export interface BenchDaemon {
  pid: number;
  socket: string;
  dataDir: string;
  /** ms from spawn until daemon.json named this process. */
  readyMs: number;
  health(): Promise<DaemonHealth>;
  /** Sum of a Prometheus counter's series on /metrics (e.g. bitville_daemon_spool_segments_written_total), optionally only those with `labels` (`kind="major"`). */
  counter(name: string, labels?: string): Promise<number>;
  /** Polls /health every `everyMs` until `pred` holds; returns the last reading. */
  until(pred: (h: DaemonHealth) => boolean, timeoutMs: number, what: string, everyMs?: number): Promise<DaemonHealth>;
  stop(): Promise<void>;
}

/**
 * `nodeArgs`: Node/V8 flags for the supervisor, which its forked worker inherits (`--cpu-prof`,
 * `--max-semi-space-size=2`; NODE_OPTIONS refuses some of them). `socketActivated`: the daemon as
 * one process, started by systemd's own `systemd-socket-activate` (it binds the socket, waits for
 * the first client, then execs the daemon with the socket as fd 3, as a `.socket` unit does), with
 * the worker's V8 flags on its command line, as the systemd unit gives them.
 */
export async function startBenchDaemon(dir: string, config: Record<string, unknown>, nodeArgs: string[] = [], socketActivated = false): Promise<BenchDaemon> {
  const dataDir = join(dir, 'data');
  const socket = join(dir, 'd.sock');
  const file = join(dir, 'daemon.yaml');
  writeFileSync(file, stringify({ socket, dataDir, health: '127.0.0.1:0', log: { level: 'warn' }, ...config }));
  const logFd = openSync(join(dir, 'daemon.log'), 'a');
  const t0 = Date.now();
  // Socket-activated, with the worker's V8 flags as deploy/systemd/bitville-apm-daemon.service passes them.
  const node = [process.execPath, ...(socketActivated ? workerExecArgv(nodeArgs, process.env.NODE_OPTIONS) : nodeArgs), DAEMON_MAIN.pathname, 'daemon', '--config', file];
  const command = socketActivated ? ['systemd-socket-activate', '-l', socket, ...node] : node;
  const child = track(spawn(command[0] as string, command.slice(1), { stdio: ['ignore', logFd, logFd] }));
  closeSync(logFd);
  if (socketActivated) await firstClient(socket, child);
  const infoPath = join(dataDir, 'state', 'daemon.json');
  let info: { pid: number; health: string } | null = null;
  while (!info) {
    if (child.exitCode !== null) throw new Error(`daemon exited with code ${child.exitCode} during start; see ${join(dir, 'daemon.log')}`);
    if (Date.now() - t0 > 120_000) {
      await stopChild(child);
      throw new Error(`daemon did not write ${infoPath} within 120 s`);
    }
    if (existsSync(infoPath)) {
      try {
        const s = JSON.parse(readFileSync(infoPath, 'utf8')) as { pid: number; health: string };
        if (s.pid === child.pid) info = s;
      } catch {
        // written atomically, but be tolerant
      }
    }
    if (!info) await sleep(20);
  }
  const readyMs = Date.now() - t0;
  const healthUrl = `http://${info.health}/health`;
  const health = () => getJson<DaemonHealth>(healthUrl);
  return {
    pid: child.pid as number,
    socket,
    dataDir,
    readyMs,
    health,
    async counter(name, labels) {
      return sumSeries(await getText(`http://${info.health}/metrics`), name, labels);
    },
    async until(pred, timeoutMs, what, everyMs = 20) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const h = await health();
        if (pred(h)) return h;
        if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms (last ${JSON.stringify(h.stats.forward)})`);
        await sleep(everyMs);
      }
    },
    async stop() {
      await stopChild(child, 30_000);
    },
  };
}

/** systemd-socket-activate starts the daemon at the first connection: make one, as a PHP client would. */
async function firstClient(socket: string, child: ChildProcess): Promise<void> {
  const t0 = Date.now();
  while (!existsSync(socket)) {
    if (child.exitCode !== null || Date.now() - t0 > 10_000) throw new Error(`systemd-socket-activate did not bind ${socket}`);
    await sleep(10);
  }
  await new Promise<void>((resolve, reject) => {
    const c = createConnection(socket, () => c.end());
    c.on('error', reject);
    c.on('close', () => resolve());
  });
}
