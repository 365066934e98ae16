import { useMemo } from 'preact/hooks';
import uPlot from 'uplot';
import { Chart } from '../components/chart';
import { ProjectPicker } from '../components/project-picker';
import { Empty, ErrorBox, Show } from '../components/states';
import type { KeyDetail } from '../lib/api';
import { WINDOWS, count, href, ms, time, windowFrom } from '../lib/format';
import { navigate, onLinkClick } from '../lib/router';
import { useApi } from '../lib/use-api';

/** One endpoint: latency distribution over the window and p50/p95/p99 per step (GET /api/v1/stats/key). */
export function EndpointView({ params }: { params: URLSearchParams }) {
  const key = params.get('key') ?? '';
  const project = params.get('project') ?? '';
  const w = windowFrom(params);
  const step = w.to - w.from > 6 * 3600 ? Math.max(w.step, 300) : w.step;
  const detail = useApi<KeyDetail>(key ? '/api/v1/stats/key' : null, { kind: 'endpoints', key, project, from: w.from, to: w.to, step });
  const set = (changes: Record<string, string | null>) => navigate(href('/endpoint', { ...Object.fromEntries(params.entries()), ...changes }));
  if (!key) return <ErrorBox message="No endpoint chosen: open one from the overview." />;
  return (
    <div class="page endpoint">
      <h1 class="mono">{key}</h1>
      <div class="toolbar">
        <ProjectPicker value={project} onChange={(p) => set({ project: p || null })} />
        <div class="presets" role="group" aria-label="Time window">
          {Object.keys(WINDOWS).map((name) => (
            <button key={name} class={w.label === name ? 'on' : ''} aria-pressed={w.label === name} onClick={() => set({ window: name, from: null, to: null })}>{name}</button>
          ))}
        </div>
        <a href={href('/search', { project: project || null, q: key.replace(/^[A-Z]+ /, '').split('{')[0], from: w.from, to: w.to })} onClick={onLinkClick}>Requests on this endpoint →</a>
      </div>
      <Show value={detail} what="the endpoint">
        {(d) => (d.count === 0 ? <Empty>No requests on this endpoint between {time(w.from)} and {time(w.to)}.</Empty> : <EndpointCharts d={d} />)}
      </Show>
    </div>
  );
}

function EndpointCharts({ d }: { d: KeyDetail }) {
  const bins = useMemo(() => histogramBins(d.histogram), [d]);
  const hist = useMemo<uPlot.AlignedData>(() => [bins.map((_, i) => i), bins.map((b) => b.count)], [bins]);
  const lines = useMemo<uPlot.AlignedData>(() => [d.series.map((p) => p.t), d.series.map((p) => p.p50_ms), d.series.map((p) => p.p95_ms), d.series.map((p) => p.p99_ms)], [d]);
  const bars = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.9, 60] }) : undefined;
  return (
    <>
      <section class="card">
        <dl class="facts">
          <div><dt>Requests</dt><dd>{count(d.count)}</dd></div>
          <div><dt>p50</dt><dd>{ms(d.p50_ms)}</dd></div>
          <div><dt>p95</dt><dd>{ms(d.p95_ms)}</dd></div>
          <div><dt>p99</dt><dd>{ms(d.p99_ms)}</dd></div>
          <div><dt>Max</dt><dd>{ms(d.max_ms)}</dd></div>
        </dl>
      </section>
      <section class="card" data-testid="latency-histogram">
        <h2>Latency distribution <small>log-spaced bins</small></h2>
        <Chart
          label="latency histogram"
          timeAxis={false}
          data={hist}
          height={200}
          series={[{ label: 'requests', stroke: '#2563eb', fill: 'rgba(37, 99, 235, 0.5)', paths: bars, points: { show: false } }]}
          axes={[{ values: (_u, vs) => vs.map((v) => { const b = bins[Math.round(v)]; return b && Number.isInteger(v) ? ms(b.upperMs) : ''; }), label: 'latency (bin upper edge)' }, { label: 'requests' }]}
          scales={{ x: { time: false, range: [-0.5, bins.length - 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } }}
        />
      </section>
      <section class="card" data-testid="percentile-series">
        <h2>p50 / p95 / p99 per {d.step === 60 ? 'minute' : `${d.step / 60} minutes`}</h2>
        <Chart
          label="percentiles over time"
          data={lines}
          series={[
            { label: 'p50', stroke: '#16a34a', width: 2, spanGaps: true, value: (_u, v) => (v === null ? '–' : ms(v)) },
            { label: 'p95', stroke: '#ea580c', width: 2, spanGaps: true, value: (_u, v) => (v === null ? '–' : ms(v)) },
            { label: 'p99', stroke: '#dc2626', width: 2, spanGaps: true, value: (_u, v) => (v === null ? '–' : ms(v)) },
          ]}
          axes={[{}, { size: 70, values: (_u, vs) => vs.map((v) => ms(v)) }]}
        />
      </section>
    </>
  );
}

/** The listener's fine log buckets (±2.5 %) regrouped into 20 log-spaced bins between the fastest and slowest. */
export function histogramBins(buckets: { ms: number; count: number }[]): { upperMs: number; count: number }[] {
  if (buckets.length === 0) return [];
  const lo = Math.max(0.01, (buckets[0]?.ms ?? 1) / 1.05);
  const hi = Math.max(lo * 1.5, (buckets[buckets.length - 1]?.ms ?? lo) * 1.05);
  const n = 20;
  const ratio = (hi / lo) ** (1 / n);
  const bins = Array.from({ length: n }, (_, i) => ({ upperMs: lo * ratio ** (i + 1), count: 0 }));
  for (const b of buckets) {
    const i = Math.min(n - 1, Math.max(0, Math.floor(Math.log(Math.max(b.ms, lo) / lo) / Math.log(ratio))));
    const bin = bins[i];
    if (bin) bin.count += b.count;
  }
  return bins;
}
