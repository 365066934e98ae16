import { randomBytes } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';

export interface HostileStats {
  deep: number;
  deepFlood: number;
  garbage: number;
  idleOpened: number;
  slowBytes: number;
}

/**
 * Clients that must not hurt anyone else (issue 9, findings 4-5): a 100,000-deep message every
 * half second, a flood of 2,000-deep messages, binary garbage, hundreds of idle connections, and a
 * one-byte-a-second sender. Connection errors are expected (the daemon restarts under them).
 */
export function startHostileClients(socketPath: string, o: { idleConnections: number }): { stop(): void; stats(): HostileStats } {
  const s: HostileStats = { deep: 0, deepFlood: 0, garbage: 0, idleOpened: 0, slowBytes: 0 };
  const open = new Set<Socket>();
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;

  const connect = (onConnect: (c: Socket) => void): Socket => {
    const c = createConnection(socketPath, () => onConnect(c));
    open.add(c);
    c.on('error', () => undefined);
    c.on('close', () => open.delete(c));
    return c;
  };
  const every = (ms: number, f: () => void): void => void timers.push(setInterval(() => !stopped && f(), ms));

  const deep = Buffer.from('{"correlation_id":"deep","project":"soak-hostile","x":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}\n');
  every(500, () => connect((c) => c.end(deep, () => s.deep++)));
  const deepLine = Buffer.from('{"a":'.repeat(2_000) + '1' + '}'.repeat(2_000) + '\n');
  const deepBurst = Buffer.concat(Array.from({ length: 20 }, () => deepLine));
  every(100, () => connect((c) => c.end(deepBurst, () => (s.deepFlood += 20))));
  every(300, () => connect((c) => c.end(randomBytes(16 * 1024), () => s.garbage++)));
  every(1_000, () => {
    let idle = 0;
    for (const c of open) if ((c as Socket & { idle?: boolean }).idle) idle++;
    for (let i = idle; i < o.idleConnections; i++) {
      const c = connect(() => s.idleOpened++);
      (c as Socket & { idle?: boolean }).idle = true;
    }
  });
  let slow: Socket | null = null;
  every(1_000, () => {
    if (!slow || slow.destroyed) slow = connect(() => undefined);
    if (slow.writable) slow.write('{', () => s.slowBytes++);
  });

  return {
    stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      for (const c of open) c.destroy();
    },
    stats: () => ({ ...s }),
  };
}
