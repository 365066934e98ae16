/**
 * Sum of every series of `name` in a Prometheus text exposition (counters and gauges), optionally
 * only those whose line contains `labels` (e.g. `exporter="gelf"`); 0 when there is none.
 */
export function sumSeries(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const next = line[name.length];
    if (line.startsWith(name) && (next === ' ' || next === '{') && line.includes(labels)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
