import { useMemo } from 'preact/hooks';
import type uPlot from 'uplot';
import type { DbOverview } from '../../../src/shared/protocol/db-api';
import { hhmm, ms } from '../lib/format';
import { useApi } from '../lib/use-api';
import { Chart } from './chart';
import { SessionLink, waitColour } from './database-panel';
import { Empty, Show } from './states';

/**
 * The overview's database panel: active sessions per step by wait-event type over the whole
 * window, and the sessions that blocked the most others in the selected spike (or the window).
 */
export function DbOverviewPanel({ project, from, to, step, focus }: { project: string; from: number; to: number; step: number; focus: number | null }) {
  const whole = useApi<DbOverview>(project ? '/api/v1/db/overview' : null, { project, from, to, step });
  const spike = useApi<DbOverview>(project && focus ? '/api/v1/db/overview' : null, { project, from: focus, to: focus ? focus + step : null, step });
  if (!project) return null;
  const blockers = focus ? spike : whole;
  return (
    <section class="card" data-testid="db-overview">
      <h2>Database <small>active sessions by wait-event type per {step === 60 ? 'minute' : `${step / 60} minutes`}</small></h2>
      <Show value={whole} what="database activity">
        {(d) => <WaitChart d={d} />}
      </Show>
      <h3>Top blocking sessions {focus ? <small>{hhmm(focus)}–{hhmm(focus + step)}</small> : <small>whole window</small>}</h3>
      <Show value={blockers} what="blocking sessions">
        {(d) =>
          d.blockers.length === 0 ? (
            <Empty>No session blocked another here.</Empty>
          ) : (
            <div class="table-wrap">
              <table data-testid="db-top-blockers">
                <thead><tr><th>Session</th><th class="num">Blocked sessions</th><th class="num">Blocked requests</th><th class="num">Longest wait</th></tr></thead>
                <tbody>
                  {d.blockers.map((b) => (
                    <tr key={b.session_key}>
                      <td><SessionLink s={b} project={project} /></td>
                      <td class="num">{b.blocked_sessions}</td>
                      <td class="num">{b.blocked_requests}</td>
                      <td class="num">{ms(b.max_wait_ms)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </section>
  );
}

function WaitChart({ d }: { d: DbOverview }) {
  const types = useMemo(() => [...new Set(d.series.flatMap((p) => Object.keys(p.by_wait_event_type)))].sort(), [d]);
  // One point per step over the whole window (null where no sample came), so the x axis is the window's.
  const data = useMemo<uPlot.AlignedData>(() => {
    const byT = new Map(d.series.map((p) => [p.t, p]));
    const ts: number[] = [];
    for (let t = Math.floor(d.from / d.step) * d.step; t < d.to; t += d.step) ts.push(t);
    return [ts, ...types.map((type) => ts.map((t) => { const p = byT.get(t); return p ? (p.by_wait_event_type[type] ?? 0) : null; }))];
  }, [d, types]);
  if (d.series.length === 0) return <Empty>No Postgres-agent activity samples in this window (is `bitville-apm pg-agent` running with this project?).</Empty>;
  return (
    <>
      <Chart label="active sessions by wait-event type" data={data} series={types.map((t) => ({ label: t, stroke: waitColour(t), width: 2, points: { show: true, size: 4 } }))} axes={[{}, { label: 'sessions' }]} height={180} />
      {d.truncated && <p class="note">The window held more samples than one answer reads; the newest are left out. Pick a shorter window.</p>}
    </>
  );
}
