import type { DbSessionPage } from '../../../src/shared/protocol/db-api';
import { SessionLink } from '../components/database-panel';
import { Empty, Show } from '../components/states';
import { ms, time } from '../lib/format';
import { useApi } from '../lib/use-api';

/** A blocking database session and every session / PHP request it blocked (GET /api/v1/db/sessions/{key}). */
export function DbSessionView({ params }: { params: URLSearchParams }) {
  const key = params.get('key') ?? '';
  const project = params.get('project') ?? '';
  const page = useApi<DbSessionPage>(key && project ? `/api/v1/db/sessions/${encodeURIComponent(key)}` : null, { project });
  if (!key || !project) return <div class="state empty">A session page needs ?key=pg:…&project=….</div>;
  return (
    <div class="page db-session">
      <Show value={page} what="the session">
        {(p) => (
          <>
            <section class="card head">
              <h1>Database session {p.session.pid}</h1>
              <SessionLink s={p.session} project={project} />
              <p class="note">Seen blocking from {p.first_seen === null ? '–' : time(p.first_seen)} to {p.last_seen === null ? '–' : time(p.last_seen)}.</p>
            </section>
            <section class="card">
              <h2>Blocked <small>{p.total} sessions</small></h2>
              {p.blocked.length === 0 ? (
                <Empty>Nothing.</Empty>
              ) : (
                <div class="table-wrap">
                  <table data-testid="db-session-blocked">
                    <thead><tr><th>Waiter</th><th>Lock</th><th class="num">Waited</th><th>When</th></tr></thead>
                    <tbody>
                      {p.blocked.map((b) => (
                        <tr key={b.waiter.session_key + (b.waiter.correlation_id ?? '')}>
                          <td><SessionLink s={b.waiter} project={project} /></td>
                          <td>{b.mode} on {b.relation ?? b.locktype}</td>
                          <td class="num">{ms(b.waited_ms)}</td>
                          <td class="nowrap">{time(b.first_seen)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
          </>
        )}
      </Show>
    </div>
  );
}
