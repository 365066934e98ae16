/**
 * The daemon as the delivery benchmark runs it: a real `bitville-apm daemon` process with a YAML
 * config (forwarding on or off), its /health read over plain HTTP.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { sumSeries } from '../../test/helpers/prometheus-text.js';
import { sleep, stopChild, track } from './child.js';
import { getJson, getText } from './get-json.js';

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
  /** Sum of a Prometheus counter's series on /metrics (e.g. bitville_daemon_spool_segments_written_total). */
  counter(name: string): Promise<number>;
  /** Polls /health every `everyMs` until `pred` holds; returns the last reading. */
  until(pred: (h: DaemonHealth) => boolean, timeoutMs: number, what: string, everyMs?: number): Promise<DaemonHealth>;
  stop(): Promise<void>;
}

/**
 * `nodeArgs`: Node/V8 flags for the supervisor, which its forked worker inherits (`--cpu-prof`,
 * `--max-semi-space-size=2`; NODE_OPTIONS refuses some of them).
 */
export async function startBenchDaemon(dir: string, config: Record<string, unknown>, nodeArgs: string[] = []): Promise<BenchDaemon> {
  const dataDir = join(dir, 'data');
  const socket = join(dir, 'd.sock');
  const file = join(dir, 'daemon.yaml');
  writeFileSync(file, stringify({ socket, dataDir, health: '127.0.0.1:0', log: { level: 'warn' }, ...config }));
  const logFd = openSync(join(dir, 'daemon.log'), 'a');
  const t0 = Date.now();
  const child = track(spawn(process.execPath, [...nodeArgs, DAEMON_MAIN.pathname, 'daemon', '--config', file], { stdio: ['ignore', logFd, logFd] }));
  closeSync(logFd);
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
    async counter(name) {
      return sumSeries(await getText(`http://${info.health}/metrics`), name);
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
