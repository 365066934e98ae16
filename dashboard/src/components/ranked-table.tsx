import type { ComponentChildren } from 'preact';
import type { StatsRow } from '../lib/api';
import { count, ms, pct } from '../lib/format';
import { Empty } from './states';

export type RankedKind = 'endpoints' | 'queries' | 'functions';

/** One "what cost the most time" table: rows ranked by total time contributed in the window. */
export function RankedTable({ kind, rows, link }: { kind: RankedKind; rows: StatsRow[]; link?: (row: StatsRow) => ComponentChildren }) {
  if (rows.length === 0) return <Empty>No {kind} in this window.</Empty>;
  const max = rows[0]?.total_ms ?? 1;
  return (
    <div class="table-wrap">
      <table class="ranked" data-testid={`ranked-${kind}`}>
        <thead>
          <tr>
            <th>#</th>
            <th class="key">{kind === 'endpoints' ? 'Endpoint' : kind === 'queries' ? 'SQL fingerprint' : 'Function'}</th>
            <th class="num">Total</th>
            <th class="num">Count</th>
            <th class="num">p95</th>
            <th class="num">Max</th>
            {kind === 'endpoints' && <th class="num">Errors</th>}
            {kind === 'functions' && <th class="num">Self</th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={r.key}>
              <td>{i + 1}</td>
              <td class="key">
                <div class="share" style={{ width: `${(r.total_ms / max) * 100}%` }} />
                <span class={kind === 'queries' ? 'mono' : ''}>{link ? link(r) : r.key}</span>
              </td>
              <td class="num">{ms(r.total_ms)}</td>
              <td class="num">{count(r.count)}</td>
              <td class="num">{ms(r.p95_ms)}</td>
              <td class="num">{ms(r.max_ms)}</td>
              {kind === 'endpoints' && <td class="num">{pct(r.error_rate)}</td>}
              {kind === 'functions' && <td class="num">{ms(r.self_ms)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
