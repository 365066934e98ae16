import type { HealthStatus } from '../../shared/http/health-server.js';
import { PROMETHEUS_CONTENT_TYPE, renderSupervisorMetrics, type SupervisorCounts } from './supervisor-metrics.js';
import { supervisorHealth, type SupervisorFacts } from './supervisor-health.js';
import type { WorkerHandle } from './worker-handle.js';

export interface HealthProxyOptions {
  /** The newest worker that accepts, and every alive worker (oldest first). */
  current(): WorkerHandle | null;
  all(): readonly WorkerHandle[];
  facts(): Omit<SupervisorFacts, 'now' | 'workerPid' | 'workerGeneration'>;
  counts(): Omit<SupervisorCounts, 'workerUp'>;
}

export interface HealthProxy {
  report(): Promise<{ status: HealthStatus; body: Record<string, unknown> }>;
  metrics(): Promise<{ contentType: string; text: string }>;
}

const ASK_TIMEOUT_MS = 1_000;
/** How long a worker's last /health answer may stand in when it is too busy to answer. */
const STALE_ANSWER_MS = 10_000;

/**
 * /health and /metrics as the supervisor serves them: it asks the current worker over IPC and
 * lays its own facts over the answer, so both keep answering while workers change.
 */
export function createHealthProxy(o: HealthProxyOptions): HealthProxy {
  let last: { at: number; answer: { status: HealthStatus; body: Record<string, unknown> } } | null = null;
  return {
    async report() {
      const w = o.current();
      let answer: { status: HealthStatus; body: Record<string, unknown> } | null = w ? await w.health(ASK_TIMEOUT_MS) : null;
      // A worker busy taking over may answer late: ask another one that accepts, else reuse a
      // recent answer while a worker is known to accept, so /health stays up through a replacement.
      // A starting or draining worker is never asked: its own socket check says "not listening"
      // although the supervisor's socket is (the flaky 503 seen under load during replacements).
      for (const other of [...o.all()].reverse()) {
        if (answer || other === w || (other.state() !== 'staging' && other.state() !== 'active')) continue;
        answer = await other.health(ASK_TIMEOUT_MS);
      }
      if (answer) last = { at: Date.now(), answer };
      else if (w && last && Date.now() - last.at < STALE_ANSWER_MS) answer = last.answer;
      return supervisorHealth(answer ? { status: answer.status, body: answer.body } : null, {
        ...o.facts(),
        now: Date.now(),
        workerPid: w?.pid ?? null,
        workerGeneration: w?.generation ?? null,
      });
    },
    async metrics() {
      const w = o.current();
      const own = renderSupervisorMetrics({ ...o.counts(), workerUp: w !== null });
      const answer = w ? await w.metrics(ASK_TIMEOUT_MS) : null;
      return { contentType: answer?.contentType ?? PROMETHEUS_CONTENT_TYPE, text: own + (answer?.text ?? '') };
    },
  };
}
