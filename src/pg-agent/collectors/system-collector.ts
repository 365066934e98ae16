import { readFile } from 'node:fs/promises';

export interface SystemSample {
  load: { '1m': number; '5m': number; '15m': number } | null;
  /** Percent of all CPU time since the previous sample; null on the first one. */
  cpu: { user: number; system: number; iowait: number; idle: number; steal: number; cores: number } | null;
  memory: { total_bytes: number; available_bytes: number; used_percent: number; swap_used_bytes: number } | null;
  /** Per block device since the previous sample (partitions, loop and ram devices left out). */
  disks: { device: string; read_bytes_per_s: number; write_bytes_per_s: number; busy_percent: number }[];
}

interface CpuTimes {
  user: number;
  system: number;
  iowait: number;
  idle: number;
  steal: number;
  total: number;
  cores: number;
}
type DiskTimes = Map<string, { readSectors: number; writeSectors: number; ioMs: number }>;

export interface SystemCollector {
  collect(): Promise<SystemSample>;
}

/**
 * Host metrics from /proc (Linux), for the machine the agent runs on: put the agent on the database
 * server to see its load. A missing file (another OS, a container without /proc) gives nulls.
 */
export function createSystemCollector(procDir = '/proc', now: () => number = Date.now): SystemCollector {
  let prevCpu: CpuTimes | null = null;
  let prevDisks: { at: number; disks: DiskTimes } | null = null;

  return {
    async collect() {
      const [loadavg, stat, meminfo, diskstats] = await Promise.all(['loadavg', 'stat', 'meminfo', 'diskstats'].map((f) => readFile(`${procDir}/${f}`, 'utf8').catch(() => null)));
      const at = now();
      const cpuNow = stat ? parseCpu(stat) : null;
      const cpu = cpuNow && prevCpu ? cpuPercent(prevCpu, cpuNow) : null;
      prevCpu = cpuNow;
      const disksNow = diskstats ? parseDisks(diskstats) : null;
      const disks = disksNow && prevDisks ? diskRates(prevDisks.disks, disksNow, (at - prevDisks.at) / 1000) : [];
      prevDisks = disksNow ? { at, disks: disksNow } : null;
      return { load: loadavg ? parseLoad(loadavg) : null, cpu, memory: meminfo ? parseMemory(meminfo) : null, disks };
    },
  };
}

function parseLoad(text: string): SystemSample['load'] {
  const [a, b, c] = text.split(/\s+/).map(Number);
  return a === undefined || b === undefined || c === undefined ? null : { '1m': a, '5m': b, '15m': c };
}

function parseCpu(text: string): CpuTimes | null {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return null;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const cores = text.split('\n').filter((l) => /^cpu\d+ /.test(l)).length;
  return { user: user + nice, system: system + irq + softirq, iowait, idle, steal, total: user + nice + system + idle + iowait + irq + softirq + steal, cores };
}

function cpuPercent(a: CpuTimes, b: CpuTimes): SystemSample['cpu'] {
  const total = b.total - a.total;
  if (total <= 0) return null;
  const pct = (x: number) => Math.round((x / total) * 1000) / 10;
  return { user: pct(b.user - a.user), system: pct(b.system - a.system), iowait: pct(b.iowait - a.iowait), idle: pct(b.idle - a.idle), steal: pct(b.steal - a.steal), cores: b.cores };
}

function parseMemory(text: string): SystemSample['memory'] {
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  if (!Number.isFinite(total) || !Number.isFinite(available) || total <= 0) return null;
  const swapTotal = kb('SwapTotal');
  const swapFree = kb('SwapFree');
  return { total_bytes: total, available_bytes: available, used_percent: Math.round((1 - available / total) * 1000) / 10, swap_used_bytes: Number.isFinite(swapTotal - swapFree) ? swapTotal - swapFree : 0 };
}

function parseDisks(text: string): DiskTimes {
  const out: DiskTimes = new Map();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const name = f[2];
    if (!name || /^(loop|ram|zram|dm-)/.test(name) || /^(sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+)\d+$/.test(name) || /^nvme\d+n\d+p\d+$/.test(name)) continue;
    out.set(name, { readSectors: Number(f[5] ?? 0), writeSectors: Number(f[9] ?? 0), ioMs: Number(f[12] ?? 0) });
  }
  return out;
}

function diskRates(a: DiskTimes, b: DiskTimes, seconds: number): SystemSample['disks'] {
  if (seconds <= 0) return [];
  const out: SystemSample['disks'] = [];
  for (const [device, cur] of b) {
    const prev = a.get(device);
    if (!prev) continue;
    out.push({
      device,
      read_bytes_per_s: Math.round(((cur.readSectors - prev.readSectors) * 512) / seconds),
      write_bytes_per_s: Math.round(((cur.writeSectors - prev.writeSectors) * 512) / seconds),
      busy_percent: Math.min(100, Math.round(((cur.ioMs - prev.ioMs) / (seconds * 1000)) * 1000) / 10),
    });
  }
  return out;
}
