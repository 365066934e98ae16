/** What the forwarder reports for /health (DESIGN section 6); health/health-report.ts lays it out. */
export interface CircuitHealth {
  name: string;
  state: 'closed' | 'open' | 'half_open';
  failure_count: number;
  failure_threshold: number;
  retry_timeout: number;
  opened_at: number | null;
}

export interface ForwardHealth {
  /** DESIGN section 6's one breaker: with several URLs, a summary (target-choice.ts). */
  circuitBreaker: CircuitHealth;
  /** One per forward URL. */
  circuitBreakers: Array<{ url: string } & CircuitHealth>;
  /** The last take from the spool failed to read a segment (a disk problem, not the listener). */
  spoolReadFailing: boolean;
  stats: Record<string, unknown>;
}
