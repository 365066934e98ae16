import type { DbSessionRef, RequestDatabase } from '../../../src/shared/protocol/db-api';
import { href, ms, time } from '../lib/format';
import { onLinkClick } from '../lib/router';
import { Empty } from './states';

export const WAIT_COLOURS: Record<string, string> = { Lock: '#dc2626', LWLock: '#f97316', IO: '#2563eb', IPC: '#7c3aed', Client: '#64748b', Timeout: '#0d9488', BufferPin: '#ca8a04', Activity: '#94a3b8', Extension: '#a16207', CPU: '#16a34a' };
export const waitColour = (type: string | null): string => WAIT_COLOURS[type ?? 'CPU'] ?? '#475569';

/** A session with its PHP request (when the listener has it) and a link to the session's page. */
export function SessionLink({ s, project }: { s: DbSessionRef; project: string }) {
  return (
    <span class="session" data-testid="db-session">
      <a href={href('/db/session', { key: s.session_key, project })} onClick={onLinkClick} title="everything this session blocked">pid {s.pid}</a>
      {s.application_name ? <span class="mono"> {s.application_name}</span> : null}
      {s.state ? <span class="note"> ({s.state})</span> : null}
      {s.correlation_id ? (
        <>
          {' '}· request{' '}
          <a class="mono" href={href(`/requests/${encodeURIComponent(s.correlation_id)}`, { project })} onClick={onLinkClick} data-testid="db-blocker-request">{s.correlation_id}</a>
          {s.request ? <span class="note"> {s.request.method} {s.request.url} · {ms(s.request.duration_ms)}</span> : null}
        </>
      ) : null}
      {s.query ? <div class="mono small">{s.query.slice(0, 300)}</div> : null}
    </span>
  );
}

/**
 * The request page's "Database" panel (issue 13): when the request's session waited, on what,
 * and who held the lock; the sessions it blocked; its server-log events.
 */
export function DatabasePanel({ db, start, durationMs, project }: { db: RequestDatabase; start: number; durationMs: number; project: string }) {
  const empty = db.waits.length === 0 && db.locks.length === 0 && db.blocked.length === 0 && db.log_events.length === 0;
  const spanS = Math.max(durationMs / 1000, 0.001);
  return (
    <section class="card" data-testid="database-panel">
      <h2>Database <small>what the Postgres agent saw of this request's session</small></h2>
      {empty ? (
        <Empty>The Postgres agent saw this request's session neither waiting nor blocking (or no agent watches its database).</Empty>
      ) : (
        <>
          {db.waits.length > 0 && (
            <div class="db-timeline" aria-label="waits over the request's timeline">
              <div class="track">
                {db.waits.map((w, i) => {
                  const left = Math.min(100, Math.max(0, ((w.t - start) / spanS) * 100));
                  return <span key={i} class="wait" style={{ left: `${left}%`, background: waitColour(w.wait_event_type) }} title={`${time(w.t)} ${w.wait_event_type ?? 'CPU'}/${w.wait_event ?? '–'} waiting ${ms(w.waited_ms)}`} />;
                })}
              </div>
              <div class="legend">
                {[...new Set(db.waits.map((w) => `${w.wait_event_type ?? 'CPU'}: ${w.wait_event ?? '–'}`))].map((k) => (
                  <span key={k} data-testid="db-wait"><i style={{ background: waitColour(k.split(':')[0] ?? null) }} /> {k}</span>
                ))}
                <span class="note">{db.waits.length} samples, longest wait {ms(Math.max(...db.waits.map((w) => w.waited_ms ?? 0)))}</span>
              </div>
            </div>
          )}
          {db.locks.length > 0 && (
            <div class="table-wrap">
              <table data-testid="db-locks">
                <thead><tr><th>Waited for</th><th class="num">Waited</th><th>Held by</th></tr></thead>
                <tbody>
                  {db.locks.map((l, i) => (
                    <tr key={i}>
                      <td><strong>{l.mode}</strong> on {l.relation ?? `${l.locktype}${l.transactionid ? ` ${l.transactionid}` : ''}`}</td>
                      <td class="num">{ms(l.waited_ms)}</td>
                      <td>{l.held_by.map((h) => <SessionLink key={h.session_key} s={h} project={project} />)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {db.blocked.length > 0 && (
            <div data-testid="db-blocked">
              <h3>This request's session blocked</h3>
              <ul class="activity">{db.blocked.map((s) => <li key={s.session_key}><SessionLink s={s} project={project} /></li>)}</ul>
            </div>
          )}
          {db.log_events.length > 0 && (
            <ul class="activity" data-testid="db-log-events">
              {db.log_events.map((e, i) => (
                <li key={i}><span class="badge">{e.kind}</span> {time(e.t)} {e.message} {e.statement ? <span class="mono small">{e.statement.slice(0, 200)}</span> : null}</li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
