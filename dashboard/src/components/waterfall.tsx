import { ms } from '../lib/format';
import type { QuerySpan } from '../lib/profile';

const MAX_ROWS = 200;

/**
 * The request as one bar and its SQL queries placed in time. When the payload gives no start
 * offsets (the PHP agent sends only durations) the queries are laid end to end in capture order,
 * and the panel says so: their positions are then an ordering, not measured start times.
 */
export function Waterfall({ durationMs, queries }: { durationMs: number; queries: QuerySpan[] }) {
  const measured = queries.length > 0 && queries.every((q) => q.offsetMs !== null);
  let cursor = 0;
  const spans = queries.slice(0, MAX_ROWS).map((q) => {
    const start = measured ? (q.offsetMs ?? 0) : cursor;
    cursor = start + q.ms;
    return { ...q, start };
  });
  const total = Math.max(durationMs, cursor, 1);
  const sqlMs = queries.reduce((s, q) => s + q.ms, 0);
  return (
    <div class="waterfall" data-testid="waterfall">
      <p class="note">
        {queries.length === 0
          ? 'This request carries no SQL queries.'
          : measured
            ? 'Queries are placed at the start offsets the agent recorded.'
            : 'The payload has query durations but no start times, so queries are placed one after another in capture order (positions show order and length, not measured start times).'}
        {queries.length > 0 && ` SQL: ${queries.length} queries, ${ms(sqlMs)} of ${ms(durationMs)} (${Math.round((sqlMs / Math.max(1, durationMs)) * 100)} %).`}
      </p>
      <div class="wf-row wf-request">
        <span class="wf-label">request</span>
        <span class="wf-track"><span class="wf-bar req" style={{ left: '0%', width: `${(durationMs / total) * 100}%` }} /></span>
        <span class="wf-ms">{ms(durationMs)}</span>
      </div>
      {spans.map((s, i) => (
        <div class="wf-row" key={i} title={s.sql}>
          <span class="wf-label sql">{s.sql || '(no text)'}</span>
          <span class="wf-track"><span class="wf-bar sql" style={{ left: `${(s.start / total) * 100}%`, width: `max(2px, ${(s.ms / total) * 100}%)` }} /></span>
          <span class="wf-ms">{ms(s.ms)}</span>
        </div>
      ))}
      {queries.length > MAX_ROWS && <p class="note">{queries.length - MAX_ROWS} more queries not drawn.</p>}
    </div>
  );
}
