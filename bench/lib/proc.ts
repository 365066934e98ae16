import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Linux /proc readings of another process: CPU time and peak RSS. */

const sysconf = new Map<string, number>();
/** A `getconf` value (CLK_TCK, PAGESIZE), read once; `fallback` where getconf fails. */
function getconf(name: string, fallback: number): number {
  let v = sysconf.get(name);
  if (v === undefined) {
    try {
      v = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim()) || fallback;
    } catch {
      v = fallback;
    }
    sysconf.set(name, v);
  }
  return v;
}
const clockTicks = (): number => getconf('CLK_TCK', 100);
const pageBytes = (): number => getconf('PAGESIZE', 4096);

/**
 * CPU time of pid and all its descendants in microseconds (resolution: one clock tick, usually
 * 10 ms). The daemon is a supervisor with a worker child: the worker does the work, so reading
 * the supervisor alone would under-count. Children that already exited and were reaped are in
 * cutime/cstime of their parent.
 */
export function cpuMicros(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    const f = statFields(p);
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
  }
  return (ticks * 1_000_000) / clockTicks();
}

/** Peak resident set size (VmHWM) summed over pid and its descendants, in bytes: the whole footprint. */
export function peakRssBytes(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return total > 0 ? total : Number.NaN;
}

/** The thread ids of pid (/proc/<pid>/task); none once it exited. */
function taskIds(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

/** pid and its live descendants (from /proc/<pid>/task/<tid>/children). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const p = out[i] as number;
    for (const t of taskIds(p)) {
      try {
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
      } catch {
        // the task ended meanwhile
      }
    }
  }
  return out;
}

/**
 * Context switches (voluntary + involuntary) of every thread of pid and its descendants: an idle
 * process that keeps switching is being woken by timers, which costs CPU and power on every host.
 */
export function contextSwitches(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    for (const t of taskIds(p)) {
      try {
        const status = readFileSync(`/proc/${p}/task/${t}/status`, 'utf8');
        for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)) total += Number(m[1]);
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return total;
}

/**
 * CPU time of one thread of pid in microseconds (its utime + stime); the main thread's id is the pid.
 * Tells the event loop's share from that of worker threads (parse, export) within one process.
 */
export function threadCpuMicros(pid: number, tid: number): number {
  const f = statFields(pid, tid);
  return f ? ((Number(f[11]) + Number(f[12])) * 1_000_000) / clockTicks() : Number.NaN;
}

function statFields(pid: number, tid?: number): string[] | null {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after the closing parenthesis are fixed.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

export interface MemoryPeaks {
  /** Largest sum of RSS over the process tree seen by the sampler, MB (shared pages counted in every process). */
  rssMb: number;
  /** Largest sum of PSS (proportional set size: shared pages split between their users), MB: what the tree costs the host. */
  pssMb: number;
  /** The root process alone (the daemon's supervisor). */
  rootRssMb: number;
  rootPssMb: number;
}

/**
 * Samples RSS of pid's process tree every `everyMs` and PSS every `pssEveryMs` until stop(); also
 * folds in VmHWM at the end. RSS comes from /proc/<pid>/statm, which costs nothing; PSS needs
 * smaps_rollup, a walk over every page table of the process, which for the daemon's ~180 MB took
 * ~4 % of this 2-core machine at 10 reads a second (perf, in the benchmark process itself) — CPU
 * taken from the senders and the daemon under test, and more from a big process than from a small
 * one. So PSS is read ten times less often: its peak may be missed by up to a second's growth.
 */
export function sampleMemory(pid: number, everyMs = 100, pssEveryMs = 1_000): { stop(): MemoryPeaks } {
  const peaks: MemoryPeaks = { rssMb: 0, pssMb: 0, rootRssMb: 0, rootPssMb: 0 };
  const pageMb = pageBytes() / 1024 / 1024;
  const rssOf = (p: number): number | null => {
    try {
      return Number(readFileSync(`/proc/${p}/statm`, 'utf8').split(' ')[1]) * pageMb; // resident pages
    } catch {
      return null;
    }
  };
  const pssOf = (p: number): number | null => {
    try {
      const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'));
      return m ? Number(m[1]) / 1024 : null;
    } catch {
      return null;
    }
  };
  const tick = (withPss: boolean): void => {
    let rss = 0;
    let pss = 0;
    for (const p of processTree(pid)) {
      const r = rssOf(p);
      if (r === null) continue;
      rss += r;
      if (p === pid) peaks.rootRssMb = Math.max(peaks.rootRssMb, r);
      if (!withPss) continue;
      const q = pssOf(p) ?? 0;
      pss += q;
      if (p === pid) peaks.rootPssMb = Math.max(peaks.rootPssMb, q);
    }
    peaks.rssMb = Math.max(peaks.rssMb, rss);
    if (withPss) peaks.pssMb = Math.max(peaks.pssMb, pss);
  };
  tick(true);
  let lastPssAt = Date.now();
  const timer = setInterval(() => {
    const withPss = Date.now() - lastPssAt >= pssEveryMs;
    if (withPss) lastPssAt = Date.now();
    tick(withPss);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      tick(true);
      const hwm = peakRssBytes(pid) / 1024 / 1024; // between samples a peak may hide: VmHWM does not miss it
      if (Number.isFinite(hwm)) peaks.rssMb = Math.max(peaks.rssMb, hwm);
      return { ...peaks };
    },
  };
}
