import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ackReplyLine, parseControlLine } from '../../src/shared/protocol/control-lines.js';
import { sumSeries } from './prometheus-text.js';
import { spawnTracked } from './tracked-process.js';
import { waitFor } from './wait-for.js';

const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname; // dist/test/helpers -> dist/src/cli

export interface AgentRecordSeen {
  correlation_id: string;
  project: string;
  timestamp: number;
  source: string;
  data: Record<string, unknown>;
}

export interface PgAgentHandle {
  proc: ChildProcess;
  health: string;
  output(): string;
  exited: Promise<number | string>;
  getHealth(): Promise<Record<string, unknown> & { stats: Record<string, Record<string, unknown>> }>;
  metric(name: string): Promise<number>;
  stop(): Promise<number | string>;
}

/** `bitville-apm pg-agent` as a real process with `config` written to `dir/pg-agent.yaml`; ready once /health answers. */
export async function spawnPgAgent(dir: string, config: Record<string, unknown>): Promise<PgAgentHandle> {
  const file = join(dir, 'pg-agent.yaml');
  writeFileSync(file, stringify({ health: '127.0.0.1:0', log: { level: 'info' }, ...config }));
  const { proc, output, exited } = spawnTracked(process.execPath, [CLI, 'pg-agent', '--config', file]);
  const health = await Promise.race([
    waitFor(() => /"health":"([^"]+)"[^\n]*pg-agent started/.exec(output())?.[1], { timeoutMs: 15_000, what: 'the "pg-agent started" log line' }),
    exited.then((code) => {
      throw new Error(`pg-agent exited (${code}) before it was ready:\n${output()}`);
    }),
  ]);
  const handle: PgAgentHandle = {
    proc,
    health,
    output,
    exited,
    async getHealth() {
      const res = await fetch(`http://${health}/health`);
      return (await res.json()) as Awaited<ReturnType<PgAgentHandle['getHealth']>>;
    },
    async metric(name) {
      return sumSeries(await (await fetch(`http://${health}/metrics`)).text(), name);
    },
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
  };
  return handle;
}

export interface RecordSink {
  path: string;
  records(source?: string): AgentRecordSeen[];
  stop(): Promise<void>;
}

/** A Unix socket standing in for the daemon: collects the NDJSON records the agent writes. */
export async function startRecordSink(path: string): Promise<RecordSink> {
  const got: AgentRecordSeen[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let buf = '';
    let sinceAck = 0;
    s.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        // The agent sends with acknowledgement (as the PHP client does): answer like the daemon.
        const control = parseControlLine(Buffer.from(line));
        if (control?.kind === 'ack_request') {
          s.write(ackReplyLine(control.token, { accepted: sinceAck, rejected: 0, dropped: 0 }));
          sinceAck = 0;
          continue;
        }
        got.push(JSON.parse(line) as AgentRecordSeen);
        sinceAck++;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    records: (source) => (source ? got.filter((r) => r.source === source) : got),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
