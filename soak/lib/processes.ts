import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url)); // dist/soak/lib -> dist/src/cli

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) killGroup(p, 'SIGKILL');
});

function killGroup(p: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (p.pid !== undefined) process.kill(-p.pid, signal);
  } catch {
    p.kill(signal);
  }
}

export interface Proc {
  pid: number;
  /** Signals the process (SIGKILL: its whole group, like a host crash). */
  signal(s: NodeJS.Signals): void;
  exited: Promise<number | string>;
  output(): string;
}

/** A `bitville-apm <role>` process in its own process group; ready once `readyFile` names its pid. */
export async function startRole(role: 'daemon' | 'listener', configFile: string, readyFile: string, timeoutMs = 30_000): Promise<Proc & { info: Record<string, unknown> }> {
  const proc = spawn(process.execPath, [CLI, role, '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.add(proc);
  let out = '';
  const keep = (c: Buffer): void => {
    out = (out + c.toString()).slice(-20_000); // the tail is enough to explain a failure
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) =>
    proc.on('exit', (code, signal) => {
      running.delete(proc);
      resolve(code ?? signal ?? -1);
    }),
  );
  const deadline = Date.now() + timeoutMs;
  let info: Record<string, unknown> | null = null;
  let gone = false;
  void exited.then(() => (gone = true));
  while (!info) {
    if (gone) throw new Error(`${role} exited before it was ready:\n${out}`);
    if (Date.now() > deadline) throw new Error(`${role} not ready within ${timeoutMs} ms:\n${out}`);
    try {
      const s = JSON.parse(readFileSync(readyFile, 'utf8')) as Record<string, unknown>;
      if (s.pid === proc.pid) info = s;
    } catch {
      // not written yet
    }
    if (!info) await new Promise((r) => setTimeout(r, 25));
  }
  return {
    pid: proc.pid ?? -1,
    signal: (s) => (s === 'SIGKILL' ? killGroup(proc, s) : proc.kill(s)),
    exited,
    output: () => out,
    info,
  };
}

export function writeYaml(path: string, value: unknown): string {
  writeFileSync(path, stringify(value));
  return path;
}

export function daemonReadyFile(dataDir: string): string {
  return join(dataDir, 'state', 'daemon.json');
}
