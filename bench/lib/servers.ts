/**
 * The servers the ingest benchmark compares, each started fresh for every measured run:
 * the raw Node sink (baseline), our daemon in memory and durable mode, and syslog-ng with a
 * reliable disk buffer where it is installed.
 */
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { forkModule, nextMessage, sleep, stopChild, track } from './child.js';
import type { SinkMessage } from './sink.js';
import type { HttpSinkMessage } from './http-sink.js';
import { getJson } from './get-json.js';

/** memory-full: memory mode with ingest.validation full (JSON.parse of every message), to show what the full parse costs. */
export type VariantName = 'sink' | 'memory' | 'memory-full' | 'durable' | 'syslog-ng';

export interface ServerUnderTest {
  /** The process whose CPU and peak RSS are measured. */
  pid: number;
  socket: string;
  /** Resolves when the server has taken `count` messages (its own meaning of "accepted"). */
  waitAccepted(count: number, timeoutMs: number): Promise<void>;
  /** Facts worth recording after the run (rejections, delivery); may wait a little. */
  details(count: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface StartOptions {
  dir: string;
  /** Extra node flags for the daemon (e.g. --cpu-prof). */
  daemonNodeArgs: string[];
}

const DAEMON_MAIN = new URL('../../src/cli/main.js', import.meta.url);

export async function startServer(variant: VariantName, o: StartOptions): Promise<ServerUnderTest> {
  mkdirSync(o.dir, { recursive: true });
  switch (variant) {
    case 'sink':
      return startSink(o.dir);
    case 'memory':
    case 'durable':
      return startDaemon(o.dir, variant, o.daemonNodeArgs);
    case 'memory-full':
      return startDaemon(o.dir, 'memory', o.daemonNodeArgs, { BITVILLE_INGEST_VALIDATION: 'full' });
    case 'syslog-ng':
      return startSyslogNg(o.dir);
  }
}

async function startSink(dir: string): Promise<ServerUnderTest> {
  const socket = join(dir, 'sink.sock');
  const child = forkModule('./sink.js', { BENCH_SINK_SOCKET: socket });
  await nextMessage<SinkMessage>(child, (m) => m.type === 'listening', 10_000, 'sink');
  let reached: Extract<SinkMessage, { type: 'reached' }> | null = null;
  return {
    pid: child.pid as number,
    socket,
    async waitAccepted(count, timeoutMs) {
      const answer = nextMessage<SinkMessage>(child, (m) => m.type === 'reached', timeoutMs, 'sink');
      child.send({ type: 'expect', count });
      reached = (await answer) as Extract<SinkMessage, { type: 'reached' }>;
    },
    details: async () => ({ received: reached?.messages ?? null, receivedBytes: reached?.bytes ?? null }),
    stop: async () => {
      await stopChild(child);
    },
  };
}

interface Health {
  stats: { ingest: { accepted: number; rejected: number; rejected_by_reason: Record<string, number> }; buffer: Record<string, unknown> };
}

async function startDaemon(dir: string, mode: 'memory' | 'durable', nodeArgs: string[], env: Record<string, string> = {}): Promise<ServerUnderTest> {
  const dataDir = join(dir, 'data');
  const socket = join(dir, 'd.sock');
  const log = openSync(join(dir, 'daemon.log'), 'a');
  const child = track(
    spawn(
      process.execPath,
      [...nodeArgs, DAEMON_MAIN.pathname, 'daemon', '--data-dir', dataDir, '--socket', socket, '--health', '127.0.0.1:0', '--buffer-mode', mode],
      { stdio: ['ignore', log, log], env: { ...process.env, ...env } },
    ),
  );
  closeSync(log);
  const infoPath = join(dataDir, 'state', 'daemon.json');
  const deadline = Date.now() + 15_000;
  type Info = { pid: number; socket: string; health: string };
  let found: Info | null = null;
  while (!found) {
    if (child.exitCode !== null) throw new Error(`daemon exited with code ${child.exitCode} during start; see ${join(dir, 'daemon.log')}`);
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`daemon did not write ${infoPath} within 15 s`);
    }
    if (existsSync(infoPath)) {
      try {
        found = JSON.parse(readFileSync(infoPath, 'utf8')) as Info;
      } catch {
        // written atomically, but be tolerant
      }
    }
    if (!found) await sleep(20);
  }
  const info: Info = found;
  const healthUrl = `http://${info.health}/health`;
  return {
    pid: info.pid,
    socket: info.socket,
    async waitAccepted(count, timeoutMs) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const h = await getJson<Health>(healthUrl);
        if (h.stats.ingest.accepted + h.stats.ingest.rejected >= count) return;
        if (Date.now() > until) throw new Error(`daemon accepted ${h.stats.ingest.accepted} of ${count} within ${timeoutMs} ms`);
        await sleep(10);
      }
    },
    async details() {
      const h = await getJson<Health>(healthUrl);
      return {
        accepted: h.stats.ingest.accepted,
        rejected: h.stats.ingest.rejected,
        rejectedByReason: h.stats.ingest.rejected_by_reason,
        diskItems: h.stats.buffer.disk_items,
        diskFiles: h.stats.buffer.disk_file_count,
      };
    },
    async stop() {
      await stopChild(child, 15_000);
    },
  };
}

export function syslogNgInstalled(): boolean {
  const r = spawnSync('syslog-ng', ['--version'], { encoding: 'utf8' });
  return r.status === 0 && /Available-Modules:.*\bhttp\b/.test(r.stdout) && /Available-Modules:.*\bdisk-buffer\b/.test(r.stdout);
}

function syslogNgConfigVersion(): string {
  const r = spawnSync('syslog-ng', ['--version'], { encoding: 'utf8' });
  const m = /^Installer-Version:\s*(\d+\.\d+)/m.exec(r.stdout) ?? /^syslog-ng \d+ \((\d+\.\d+)/m.exec(r.stdout);
  return m?.[1] ?? '3.38';
}

const execFileAsync = promisify(execFile);

/** syslog-ng's own count of messages that reached the destination queue (the disk buffer). */
async function syslogNgQueued(control: string): Promise<number> {
  const { stdout } = await execFileAsync('syslog-ng-ctl', ['stats', '-c', control]);
  for (const line of stdout.split('\n')) {
    const f = line.split(';');
    if (f[0] === 'destination' && f[1] === 'd_http' && f[4] === 'processed') return Number(f[5]);
  }
  return 0;
}

async function startSyslogNg(dir: string): Promise<ServerUnderTest> {
  const httpSink = forkModule('./http-sink.js', {});
  const { port } = (await nextMessage<HttpSinkMessage>(httpSink, (m) => m.type === 'listening', 10_000, 'http sink')) as Extract<
    HttpSinkMessage,
    { type: 'listening' }
  >;
  const socket = join(dir, 'sng.sock');
  const control = join(dir, 'sng.ctl');
  const bufferDir = join(dir, 'disk-buffer');
  mkdirSync(bufferDir, { recursive: true });
  const conf = join(dir, 'syslog-ng.conf');
  // The closest syslog-ng setup to our daemon: a Unix stream socket taking one JSON line per
  // connection, a reliable disk buffer, and batched HTTP delivery to the listener.
  writeFileSync(
    conf,
    `@version: ${syslogNgConfigVersion()}
options { log-msg-size(8388608); stats-freq(0); };
source s_php {
  unix-stream("${socket}" flags(no-parse) perm(0666) max-connections(4096) listen-backlog(4096)
    log-iw-size(409600) log-msg-size(8388608));
};
destination d_http {
  http(url("http://127.0.0.1:${port}/ingest") method("POST") body("\${MSG}")
    batch-lines(500) batch-timeout(1000)
    disk-buffer(reliable(yes) dir("${bufferDir}") disk-buf-size(1073741824) mem-buf-size(33554432)));
};
log { source(s_php); destination(d_http); flags(flow-control); };
`,
  );
  const log = openSync(join(dir, 'syslog-ng.log'), 'a');
  const child: ChildProcess = track(
    spawn('syslog-ng', ['-F', '--no-caps', '-f', conf, '-R', join(dir, 'sng.persist'), '-p', join(dir, 'sng.pid'), '-c', control], { stdio: ['ignore', log, log] }),
  );
  closeSync(log);
  const deadline = Date.now() + 15_000;
  while (!(existsSync(socket) && existsSync(control))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopChild(child);
      await stopChild(httpSink);
      throw new Error(`syslog-ng did not start; see ${join(dir, 'syslog-ng.log')}`);
    }
    await sleep(20);
  }
  return {
    pid: child.pid as number,
    socket,
    async waitAccepted(count, timeoutMs) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const queued = await syslogNgQueued(control);
        if (queued >= count) return;
        if (Date.now() > until) throw new Error(`syslog-ng queued ${queued} of ${count} within ${timeoutMs} ms`);
        await sleep(10);
      }
    },
    async details(count) {
      // How long until the http sink has everything: includes batch-timeout(1000).
      const t0 = Date.now();
      const answer = nextMessage<HttpSinkMessage>(httpSink, (m) => m.type === 'reached', 30_000, 'http sink');
      httpSink.send({ type: 'expect', count });
      try {
        const r = (await answer) as Extract<HttpSinkMessage, { type: 'reached' }>;
        return { queued: await syslogNgQueued(control), deliveredAfterAcceptedMs: Date.now() - t0, httpRequests: r.requests };
      } catch (err) {
        return { queued: await syslogNgQueued(control), deliveryError: (err as Error).message };
      }
    },
    async stop() {
      await stopChild(child, 15_000);
      await stopChild(httpSink);
    },
  };
}
