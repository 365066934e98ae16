import { useState } from 'preact/hooks';
import { ProjectPicker } from '../components/project-picker';
import { Empty, Show } from '../components/states';
import type { Page, RequestSummary } from '../lib/api';
import { count, href, ms, time } from '../lib/format';
import { navigate, onLinkClick } from '../lib/router';
import { useApi } from '../lib/use-api';

/** Every filter GET /api/v1/requests knows; they live in the URL, so a view can be shared. */
const FILTERS = ['project', 'url', 'method', 'status', 'host', 'min_ms', 'max_ms', 'from', 'to', 'q'] as const;
type Filter = (typeof FILTERS)[number];
type SortKey = 'timestamp' | 'duration_ms' | 'status' | 'sql_ms' | 'sql_count' | 'url' | 'host';

export function Search({ params }: { params: URLSearchParams }) {
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Record<Filter, string>;
  const cursor = params.get('cursor') ?? '';
  const page = useApi<Page<RequestSummary>>('/api/v1/requests', { ...filters, cursor, limit: 50 });
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'timestamp', desc: true });

  const apply = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const next: Record<string, string> = {};
    for (const f of FILTERS) {
      let v = String(form.get(f) ?? '').trim();
      if ((f === 'from' || f === 'to') && v !== '') v = String(Math.floor(new Date(v).getTime() / 1000));
      if (v !== '') next[f] = v;
    }
    navigate(href('/search', next));
  };
  const header = (key: SortKey, label: string, num = false) => (
    <th class={`${num ? 'num' : ''} sortable`} aria-sort={sort.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <button class="link" onClick={() => setSort({ key, desc: sort.key === key ? !sort.desc : true })}>
        {label} {sort.key === key ? (sort.desc ? '▼' : '▲') : ''}
      </button>
    </th>
  );

  return (
    <div class="page search">
      <form class="card filters" onSubmit={apply} data-testid="search-form" key={params.toString()}>
        <ProjectPicker value={filters.project} onChange={() => undefined} />
        <label>URL contains <input name="url" defaultValue={filters.url} placeholder="/checkout" /></label>
        <label>Method
          <select name="method" defaultValue={filters.method}>
            <option value="">any</option>
            {['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'CLI'].map((m) => <option key={m} value={m}>{m}</option>)}
          </select>
        </label>
        <label>Status <input name="status" type="number" min="0" max="999" defaultValue={filters.status} placeholder="500" /></label>
        <label>Host <input name="host" defaultValue={filters.host} placeholder="web-01" /></label>
        <label>Min ms <input name="min_ms" type="number" min="0" step="any" defaultValue={filters.min_ms} /></label>
        <label>Max ms <input name="max_ms" type="number" min="0" step="any" defaultValue={filters.max_ms} /></label>
        <label>From <input name="from" type="datetime-local" step="1" defaultValue={localInput(filters.from)} /></label>
        <label>To <input name="to" type="datetime-local" step="1" defaultValue={localInput(filters.to)} /></label>
        <label class="wide">Text <input name="q" defaultValue={filters.q} placeholder="correlation id, URL, host or endpoint" /></label>
        <div class="actions">
          <button type="submit">Search</button>
          <a href="/search" onClick={onLinkClick}>Clear</a>
        </div>
      </form>
      <section class="card">
        <Show value={page} what="requests">
          {(d) => {
            if (d.items.length === 0) return <Empty>No requests match these filters.</Empty>;
            const rows = [...d.items].sort((a, b) => compare(a, b, sort.key) * (sort.desc ? -1 : 1));
            return (
              <>
                <p class="note" data-testid="search-total">
                  {d.total_capped ? `More than ${count(d.total)}` : count(d.total)} requests match; newest first from the listener, columns sort this page.
                </p>
                <div class="table-wrap">
                  <table class="results" data-testid="search-results">
                    <thead>
                      <tr>
                        {header('timestamp', 'Time')}
                        <th>Method</th>
                        {header('url', 'URL')}
                        {header('status', 'Status', true)}
                        {header('duration_ms', 'Duration', true)}
                        {header('sql_count', 'Queries', true)}
                        {header('sql_ms', 'SQL time', true)}
                        {header('host', 'Host')}
                      </tr>
                    </thead>
                    <tbody>
                      {rows.map((r) => (
                        <tr key={`${r.project}/${r.correlation_id}`}>
                          <td class="nowrap">{time(r.timestamp)}</td>
                          <td>{r.method}</td>
                          <td class="url"><a href={href(`/requests/${encodeURIComponent(r.correlation_id)}`, { project: r.project })} onClick={onLinkClick}>{r.url || '(no url)'}</a></td>
                          <td class={`num ${r.status !== null && r.status >= 500 ? 'bad' : ''}`}>{r.status ?? '–'}</td>
                          <td class="num">{ms(r.duration_ms)}</td>
                          <td class="num">{r.sql_count}</td>
                          <td class="num">{ms(r.sql_ms)}</td>
                          <td>{r.host}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <div class="pager">
                  {cursor && <button onClick={() => history.back()}>← Newer</button>}
                  {d.next_cursor && (
                    <button onClick={() => navigate(href('/search', { ...Object.fromEntries(params.entries()), cursor: d.next_cursor }))} data-testid="next-page">Older →</button>
                  )}
                </div>
              </>
            );
          }}
        </Show>
      </section>
    </div>
  );
}

function compare(a: RequestSummary, b: RequestSummary, key: SortKey): number {
  const x = a[key] ?? -1;
  const y = b[key] ?? -1;
  return typeof x === 'string' && typeof y === 'string' ? x.localeCompare(y) : Number(x) - Number(y);
}

/** unix seconds in the URL -> the value a datetime-local input shows (local time). */
function localInput(unixS: string): string {
  if (!unixS) return '';
  const d = new Date(Number(unixS) * 1000);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
