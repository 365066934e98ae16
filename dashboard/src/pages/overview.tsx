import { useMemo } from 'preact/hooks';
import type uPlot from 'uplot';
import { Chart } from '../components/chart';
import { DbOverviewPanel } from '../components/db-overview-panel';
import { ProjectPicker } from '../components/project-picker';
import { RankedTable, type RankedKind } from '../components/ranked-table';
import { Empty, Show } from '../components/states';
import type { Page, RequestSummary, SeriesPoint, StatsRow } from '../lib/api';
import { WINDOWS, count, hhmm, href, ms, time, windowFrom } from '../lib/format';
import { navigate, onLinkClick } from '../lib/router';
import { findSpikes } from '../lib/spikes';
import { useApi } from '../lib/use-api';

/**
 * Request count and p95 per step over the window, spikes shaded; then what cost the most time.
 * `focus` (a unix minute in the URL) narrows the rankings to one spike while the chart keeps the
 * whole window, so "what happened at 14:32" is one click from the chart.
 */
export function Overview({ params }: { params: URLSearchParams }) {
  const project = params.get('project') ?? '';
  const host = params.get('host') ?? '';
  const w = windowFrom(params);
  const focus = Number(params.get('focus')) || null;
  const set = (changes: Record<string, string | number | null>) => {
    const next: Record<string, string | number | null> = Object.fromEntries(params.entries());
    navigate(href('/', { ...next, ...changes }));
  };
  const series = useApi<{ items: SeriesPoint[]; step: number }>('/api/v1/stats/timeseries', { project, from: w.from, to: w.to, step: w.step });
  const rankWindow = focus ? { from: focus, to: focus + w.step } : { from: w.from, to: w.to };

  return (
    <div class="page overview">
      <div class="toolbar">
        <ProjectPicker value={project} onChange={(p) => set({ project: p || null, focus: null })} />
        <div class="presets" role="group" aria-label="Time window">
          {Object.keys(WINDOWS).map((name) => (
            <button key={name} class={w.label === name ? 'on' : ''} aria-pressed={w.label === name} onClick={() => set({ window: name, from: null, to: null, focus: null })}>{name}</button>
          ))}
        </div>
        <form class="host" onSubmit={(e) => { e.preventDefault(); set({ host: ((e.currentTarget as HTMLFormElement).elements.namedItem('host') as HTMLInputElement).value.trim() || null }); }}>
          <label>Host <input name="host" defaultValue={host} placeholder="any host" /></label>
        </form>
      </div>
      <section class="card">
        <h2>Requests and p95 per {w.step === 60 ? 'minute' : `${w.step / 60} minutes`} <small>{time(w.from)} – {hhmm(w.to)}</small></h2>
        <Show value={series} what="the time series">
          {(s) => <SeriesPanel points={s.items} step={s.step} focus={focus} onFocus={(t) => set({ focus: t })} />}
        </Show>
      </section>
      {focus && (
        <div class="focus-bar" data-testid="focus-bar">
          Culprits for <strong>{hhmm(focus)}–{hhmm(focus + w.step)}</strong> <button class="link" onClick={() => set({ focus: null })}>show the whole window</button>
        </div>
      )}
      {host && <p class="note">The rankings and chart cover every host (the listener's rollups are per project, not per host); the host filter applies to the request list below and to Search.</p>}
      <div class="grid3">
        {(['endpoints', 'queries', 'functions'] as const).map((kind) => <Ranked key={kind} kind={kind} project={project} from={rankWindow.from} to={rankWindow.to} />)}
      </div>
      <SlowRequests project={project} host={host} from={rankWindow.from} to={rankWindow.to} />
      <DbOverviewPanel project={project} from={w.from} to={w.to} step={w.step} focus={focus} />
    </div>
  );
}

function SeriesPanel({ points, step, focus, onFocus }: { points: SeriesPoint[]; step: number; focus: number | null; onFocus: (t: number) => void }) {
  const spikes = useMemo(() => findSpikes(points), [points]);
  const data = useMemo<uPlot.AlignedData>(() => [points.map((p) => p.t), points.map((p) => p.count), points.map((p) => p.p95_ms)], [points]);
  const total = points.reduce((s, p) => s + p.count, 0);
  if (total === 0) return <Empty>No requests in this window. Pick a longer window or another project.</Empty>;
  const sortedSpikes = [...spikes].sort((a, b) => (points.find((p) => p.t === b)?.p95_ms ?? 0) - (points.find((p) => p.t === a)?.p95_ms ?? 0));
  return (
    <>
      <Chart
        label="requests and p95 per step"
        data={data}
        highlight={spikes}
        bandWidth={step}
        series={[
          { label: 'requests', scale: 'count', stroke: '#2563eb', fill: 'rgba(37, 99, 235, 0.15)', width: 1 },
          { label: 'p95', scale: 'ms', stroke: '#ea580c', width: 2, spanGaps: true, value: (_u, v) => (v === null ? '–' : ms(v)) },
        ]}
        axes={[{}, { scale: 'count', label: 'requests' }, { scale: 'ms', side: 1, size: 70, label: 'p95', grid: { show: false }, values: (_u, vs) => vs.map((v) => ms(v)) }]}
      />
      <div class="spikes" data-testid="spikes">
        {sortedSpikes.length === 0 ? (
          <span class="note">No spikes: no minute has ≥ 3× the typical request count or 5× the typical p95.</span>
        ) : (
          <>
            <span>Spikes:</span>
            {sortedSpikes.slice(0, 8).map((t) => {
              const p = points.find((x) => x.t === t);
              return (
                <button key={t} class={`spike ${focus === t ? 'on' : ''}`} onClick={() => onFocus(t)} data-testid="spike">
                  {hhmm(t)} · {count(p?.count ?? 0)} req · p95 {ms(p?.p95_ms)}
                </button>
              );
            })}
          </>
        )}
      </div>
    </>
  );
}

function Ranked({ kind, project, from, to }: { kind: RankedKind; project: string; from: number; to: number }) {
  const rows = useApi<Page<StatsRow>>(`/api/v1/stats/${kind}`, { project, from, to, limit: 10 });
  const title = { endpoints: 'Slowest endpoints', queries: 'SQL fingerprints', functions: 'Functions' }[kind];
  return (
    <section class="card">
      <h2>{title} <small>by total time</small></h2>
      <Show value={rows} what={kind}>
        {(d) => (
          <RankedTable
            kind={kind}
            rows={d.items}
            link={kind === 'endpoints' ? (r) => <a href={href('/endpoint', { key: r.key, project: project || null })} onClick={onLinkClick}>{r.key}</a> : undefined}
          />
        )}
      </Show>
    </section>
  );
}

/** The slowest requests among the newest 200 in the window (the search API pages newest first). */
function SlowRequests({ project, host, from, to }: { project: string; host: string; from: number; to: number }) {
  const page = useApi<Page<RequestSummary>>('/api/v1/requests', { project, host, from, to, limit: 200 });
  return (
    <section class="card">
      <h2>Slowest requests <small>of the newest 200 in the window</small></h2>
      <Show value={page} what="requests">
        {(d) => {
          const rows = [...d.items].sort((a, b) => b.duration_ms - a.duration_ms).slice(0, 10);
          if (rows.length === 0) return <Empty>No requests match.</Empty>;
          return (
            <div class="table-wrap">
              <table data-testid="slow-requests">
                <thead><tr><th>Time</th><th>Request</th><th class="num">Duration</th><th class="num">SQL</th><th>Host</th></tr></thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.correlation_id}>
                      <td class="nowrap">{time(r.timestamp)}</td>
                      <td class="url"><a href={href(`/requests/${encodeURIComponent(r.correlation_id)}`, { project: r.project })} onClick={onLinkClick}>{r.method} {r.url}</a></td>
                      <td class="num">{ms(r.duration_ms)}</td>
                      <td class="num">{r.sql_count} · {ms(r.sql_ms)}</td>
                      <td>{r.host}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Show>
      <a href={href('/search', { project: project || null, host: host || null, from: Math.floor(from), to: Math.ceil(to) })} onClick={onLinkClick}>Search these requests →</a>
    </section>
  );
}
