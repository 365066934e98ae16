import { sendOnce } from '../helpers/socket-client.js';
import { lineFor } from '../helpers/profiles.js';

export interface SteadyLoad {
  /** Ids whose connection completed without an error, in send order. */
  sent: string[];
  failures: Record<string, number>;
  done: Promise<void>;
  stop(): void;
}

/**
 * PHP-FPM style steady load: `perSecond` messages, one connection each, started in 20 ms ticks;
 * `padBytes` sizes each profile. Failed connections are counted by error code.
 */
export function steadyLoad(socketPath: string, o: { perSecond: number; seconds: number; prefix: string; padBytes?: number }): SteadyLoad {
  const sent: string[] = [];
  const failures: Record<string, number> = {};
  const total = o.perSecond * o.seconds;
  const perTick = Math.max(1, Math.round(o.perSecond / 50));
  let next = 0;
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const done = (async () => {
    const start = Date.now();
    for (let tick = 0; next < total && !stopped; tick++) {
      for (let i = 0; i < perTick && next < total; i++) {
        const id = `${o.prefix}-${String(next++).padStart(6, '0')}`;
        const p = sendOnce(socketPath, lineFor(id, o.padBytes)).then(
          () => void sent.push(id),
          (err: NodeJS.ErrnoException) => void (failures[err.code ?? 'unknown'] = (failures[err.code ?? 'unknown'] ?? 0) + 1),
        );
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      const wait = start + (tick + 1) * 20 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await Promise.all(inFlight);
  })();
  return { sent, failures, done, stop: () => void (stopped = true) };
}

/** Polls /health every intervalMs until stopped; records every answer that was not a 200 or failed. */
export function watchHealth(health: () => Promise<{ status: number; body: { problems?: unknown } }>, intervalMs = 100): { bad: string[]; answers: () => number; stop(): Promise<void> } {
  const bad: string[] = [];
  let answers = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const r = await health();
        answers++;
        if (r.status !== 200) bad.push(`HTTP ${r.status} ${JSON.stringify(r.body.problems)}`);
      } catch (err) {
        bad.push((err as Error).message);
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    bad,
    answers: () => answers,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
