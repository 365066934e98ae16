/**
 * Summarises V8 .cpuprofile files (from `npm run bench -- --only ingest --cpu-prof`, written to
 * bench/results/profiles/): the functions with the most self time, summed over the files given.
 *
 *   node dist/bench/lib/profile-top.js bench/results/profiles/memory-*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const argv = process.argv.slice(2);
const topAt = argv.indexOf('--top');
const top = topAt >= 0 ? Number(argv[topAt + 1]) : 25;
const files = argv.filter((a, i) => a !== '--top' && i !== topAt + 1);
if (files.length === 0) {
  console.error('usage: profile-top.js <file.cpuprofile>... [--top N]');
  process.exit(2);
}

const selfUs = new Map<string, number>();
let totalUs = 0;
for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i] as number);
    const dt = p.timeDeltas[i] ?? 0;
    if (!node) continue;
    const f = node.callFrame;
    let where = f.url;
    if (where.startsWith('file://')) where = relative(process.cwd(), fileURLToPath(where));
    const key = `${f.functionName || '(anonymous)'}  ${where ? `${where}:${f.lineNumber + 1}` : ''}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    totalUs += dt;
  }
}

const idle = ['(idle)', '(program)', '(garbage collector)'];
const busyUs = [...selfUs].filter(([k]) => !idle.some((x) => k.startsWith(x))).reduce((n, [, v]) => n + v, 0);
console.log(`${files.length} profile(s), ${(totalUs / 1e6).toFixed(2)} s sampled, ${(busyUs / 1e6).toFixed(2)} s in JS/native functions`);
for (const [key, us] of [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
}
