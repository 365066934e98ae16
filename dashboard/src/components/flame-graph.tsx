import { useMemo, useState } from 'preact/hooks';
import { layout, type FlameNode, type FlameRect } from '../lib/flame';

const ROW_PX = 18;

/**
 * Icicle-style flame graph in SVG (root on top, width = inclusive time). Click a frame to zoom
 * into it, click the root to zoom out. Hand-sized on purpose: see docs/dashboard.md for why no
 * flame-graph library is bundled.
 */
export function FlameGraph({ root, unit }: { root: FlameNode; unit: 'us' | 'samples' }) {
  const [focus, setFocus] = useState<FlameNode>(root);
  const rects = useMemo(() => layout(focus), [focus]);
  const depth = rects.reduce((d, r) => Math.max(d, r.depth), 0) + 1;
  const label = (r: FlameRect) => `${r.name} — ${unit === 'us' ? `${(r.value / 1000).toFixed(1)} ms` : `${Math.round(r.value)} samples`} (${((r.value / root.value) * 100).toFixed(1)} %)`;
  return (
    <div class="flame" data-testid="flame-graph">
      {focus !== root && <button class="link" onClick={() => setFocus(root)}>Reset zoom</button>}
      <svg width="100%" height={depth * ROW_PX} role="img" aria-label="flame graph">
        {rects.map((r) => (
          <g key={`${r.depth}:${r.x}`} transform={`translate(0, ${r.depth * ROW_PX})`}>
            <svg x={`${r.x * 100}%`} width={`${r.width * 100}%`} height={ROW_PX - 1} onClick={() => setFocus(r.depth === 0 ? root : r.node)}>
              <rect width="100%" height="100%" fill={colour(r.name)} rx="2" />
              <title>{label(r)}</title>
              <text x="4" y={ROW_PX - 6} class="flame-text">{r.name}</text>
            </svg>
          </g>
        ))}
      </svg>
    </div>
  );
}

/** Warm colours hashed from the name, so a function keeps its colour across requests. */
function colour(name: string): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return `hsl(${10 + (h % 40)}, ${70 + (h % 20)}%, ${62 + (h % 12)}%)`;
}
