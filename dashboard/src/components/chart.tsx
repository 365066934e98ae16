import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartProps {
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  axes?: uPlot.Axis[];
  scales?: uPlot.Scales;
  height?: number;
  /** x values (bucket starts) to shade red, each `bandWidth` wide. */
  highlight?: ReadonlySet<number>;
  bandWidth?: number;
  timeAxis?: boolean;
  label: string;
}

/** uPlot in a Preact component: created once per data change, resized with its container. */
export function Chart(p: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const highlight = p.highlight ?? new Set<number>();
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: p.height ?? 220,
      series: [{}, ...p.series],
      scales: p.scales ?? {},
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      ...(p.axes ? { axes: p.axes } : {}),
      ...(p.timeAxis === false ? {} : {}),
      hooks: {
        drawClear: [
          (u) => {
            if (highlight.size === 0) return;
            const ctx = u.ctx;
            ctx.save();
            ctx.fillStyle = 'rgba(220, 38, 38, 0.18)';
            for (const t of highlight) {
              const x0 = u.valToPos(t, 'x', true);
              const x1 = u.valToPos(t + (p.bandWidth ?? 60), 'x', true);
              ctx.fillRect(x0, u.bbox.top, Math.max(3, x1 - x0), u.bbox.height);
            }
            ctx.restore();
          },
        ],
      },
    };
    if (p.timeAxis === false) opts.scales = { ...opts.scales, x: { time: false, ...(opts.scales?.x ?? {}) } };
    const plot = new uPlot(opts, p.data, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height: p.height ?? 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [p.data, p.highlight]);
  return <div class="chart" ref={box} role="img" aria-label={p.label} />;
}
