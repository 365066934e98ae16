import { useMemo } from 'preact/hooks';
import { DatabasePanel } from '../components/database-panel';
import { FlameGraph } from '../components/flame-graph';
import { Empty, Show } from '../components/states';
import { Waterfall } from '../components/waterfall';
import type { Difference, RequestDetail } from '../lib/api';
import { treeFromEdges, treeFromFolded, type FlameNode } from '../lib/flame';
import { href, ms, time } from '../lib/format';
import { edgesOf, foldedStacksOf, functionsOf, queriesOf } from '../lib/profile';
import { onLinkClick } from '../lib/router';
import { useApi } from '../lib/use-api';

export function RequestDetailPage({ id, params }: { id: string; params: URLSearchParams }) {
  const detail = useApi<RequestDetail>(`/api/v1/requests/${encodeURIComponent(id)}`, { project: params.get('project') });
  return (
    <div class="page detail">
      <Show value={detail} what="the request">
        {(d) => <Detail d={d} />}
      </Show>
    </div>
  );
}

function Detail({ d }: { d: RequestDetail }) {
  const queries = useMemo(() => queriesOf(d.payload), [d]);
  const functions = useMemo(() => functionsOf(d.payload), [d]);
  const flame = useMemo<{ root: FlameNode; unit: 'us' | 'samples'; from: string } | null>(() => {
    const folded = foldedStacksOf(d.payload);
    if (folded) return { root: treeFromFolded(folded), unit: 'samples', from: 'sampled stacks' };
    const edges = edgesOf(d.payload);
    const root = edges ? treeFromEdges(edges) : null;
    return root ? { root, unit: 'us', from: 'XHProf call edges (parent ⇒ child); a function reached along several paths shares its children in proportion' } : null;
  }, [d]);
  const c = d.comparison;
  const p = (d.payload ?? {}) as Record<string, unknown>;
  return (
    <>
      <section class="card head">
        <h1 class="url-title" data-testid="request-title">
          <span class={`badge ${d.status !== null && d.status >= 500 ? 'bad' : ''}`}>{d.status ?? '–'}</span> {d.method} {d.url}
        </h1>
        <dl class="facts">
          <div><dt>Duration</dt><dd data-testid="duration">{ms(d.duration_ms)}</dd></div>
          <div><dt>When</dt><dd>{time(d.timestamp)}</dd></div>
          <div><dt>Host</dt><dd>{d.host || '–'}</dd></div>
          <div><dt>Project</dt><dd>{d.project}</dd></div>
          <div><dt>SQL</dt><dd>{d.sql_count} queries · {ms(d.sql_ms)}</dd></div>
          <div><dt>Endpoint</dt><dd><a href={href('/endpoint', { key: d.endpoint, project: d.project })} onClick={onLinkClick}>{d.endpoint}</a></dd></div>
          <div class="wide"><dt>Correlation id</dt><dd class="mono">{d.correlation_id}</dd></div>
        </dl>
      </section>

      <section class="card" data-testid="comparison">
        <h2>Compared with its endpoint <small>{c.baseline_count} requests on {c.endpoint} in the 24 h before</small></h2>
        {c.baseline_count === 0 ? (
          <Empty>No baseline yet: this is the first request seen on this endpoint.</Empty>
        ) : (
          <>
            <dl class="facts">
              <div><dt>Slower than</dt><dd>{c.percentile_rank === null ? '–' : `${c.percentile_rank.toFixed(1)} %`} of them</dd></div>
              <div><dt>Endpoint p50</dt><dd>{ms(c.p50_ms)}</dd></div>
              <div><dt>Endpoint p95</dt><dd>{ms(c.p95_ms)}</dd></div>
              <div><dt>This / p50</dt><dd class={c.ratio_to_p50 !== null && c.ratio_to_p50 > 2 ? 'bad' : ''}>{c.ratio_to_p50 === null ? '–' : `${c.ratio_to_p50.toFixed(1)}×`}</dd></div>
            </dl>
            <div class="grid2">
              <Differences title="Functions" rows={c.functions} sample={c.sample_size} />
              <Differences title="SQL fingerprints" rows={c.queries} sample={c.sample_size} mono />
            </div>
          </>
        )}
      </section>

      <section class="card">
        <h2>Timeline</h2>
        <Waterfall durationMs={d.duration_ms} queries={queries} />
      </section>

      {d.database && <DatabasePanel db={d.database} start={d.timestamp} durationMs={d.duration_ms} project={d.project} />}

      <div class="grid2">
        <section class="card">
          <h2>XHProf top functions</h2>
          {functions.length === 0 ? (
            <Empty>This payload has no XHProf data.</Empty>
          ) : (
            <div class="table-wrap">
              <table data-testid="functions">
                <thead><tr><th>Function</th><th class="num">Calls</th><th class="num">Inclusive</th><th class="num">Exclusive</th></tr></thead>
                <tbody>
                  {functions.slice(0, 30).map((f) => (
                    <tr key={f.name}><td class="mono">{f.name}</td><td class="num">{f.calls ?? '–'}</td><td class="num">{ms(f.inclusiveMs)}</td><td class="num">{f.exclusiveMs === null ? <span title="the agent sent inclusive times only">n/a</span> : ms(f.exclusiveMs)}</td></tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
        <section class="card">
          <h2>Flame graph</h2>
          {flame ? (
            <>
              <p class="note">From {flame.from}. Width is inclusive time; click a frame to zoom.</p>
              <FlameGraph root={flame.root} unit={flame.unit} />
            </>
          ) : (
            <Empty>No flame graph: this request has neither sampled stacks nor XHProf call edges (only a top-functions summary, which has no call structure).</Empty>
          )}
        </section>
      </div>

      <div class="grid2">
        <section class="card">
          <h2>Request</h2>
          <KeyValues value={{ ...(obj(p.request)), server: p.server ?? obj(p.request).server }} />
        </section>
        <section class="card">
          <h2>Response</h2>
          <KeyValues value={{ ...obj(p.response), fatal_error: p.fatal_error ?? null, timing: p.timing ?? null }} />
        </section>
      </div>

      <section class="card" data-testid="db-activity">
        <h2>Postgres-agent records <small>linked by correlation id</small></h2>
        {d.db_activity.length === 0 ? (
          <Empty>No Postgres-agent records mention this request.</Empty>
        ) : (
          <ul class="activity">
            {d.db_activity.map((a, i) => (
              <li key={i}>
                <details>
                  <summary><span class="badge">{a.source}</span> {time(a.timestamp)}</summary>
                  <pre>{JSON.stringify(a.record, null, 2)}</pre>
                </details>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section class="card">
        <details>
          <summary>Raw payload</summary>
          <pre class="raw">{JSON.stringify(d.payload, null, 2)}</pre>
        </details>
      </section>
    </>
  );
}

function Differences({ title, rows, sample, mono }: { title: string; rows: Difference[]; sample: number; mono?: boolean }) {
  if (rows.length === 0) return <Empty>No {title.toLowerCase()} to compare.</Empty>;
  return (
    <div class="table-wrap">
      <table>
        <thead><tr><th>{title}</th><th class="num">This</th><th class="num" title={`mean over ${sample} earlier requests`}>Usual</th><th class="num">Extra</th></tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key}>
              <td class={mono ? 'mono' : ''}>{r.key}</td>
              <td class="num">{ms(r.ms)}</td>
              <td class="num">{ms(r.baseline_ms)}</td>
              <td class={`num ${r.delta_ms > 0 ? 'bad' : 'good'}`}>{r.delta_ms > 0 ? '+' : ''}{ms(r.delta_ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function KeyValues({ value }: { value: Record<string, unknown> }) {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return <Empty>Not in the payload.</Empty>;
  return (
    <dl class="kv">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{typeof v === 'object' && v !== null ? <pre>{JSON.stringify(v, null, 2)}</pre> : String(v)}</dd>
        </div>
      ))}
    </dl>
  );
}
