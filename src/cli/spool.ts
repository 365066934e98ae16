import type { Command } from 'commander';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { daemonConfigSchema } from '../shared/config/daemon-config.js';
import { loadConfig } from '../shared/config/load-config.js';
import { splitSegment } from '../daemon/spool/segment-file.js';
import { segmentTime } from '../daemon/spool/segment-name.js';
import { readUpInfo } from './local-defaults.js';
import { exitOnConfigError } from './common.js';

interface SpoolFlags {
  dataDir?: string;
  config?: string;
  upDir: string;
  json?: boolean;
  limit?: string;
}

/** The data dir to look at: --data-dir, else --config's, else the local `up` one, else the production default. */
function resolveDataDir(f: SpoolFlags): string {
  if (f.dataDir) return f.dataDir;
  if (f.config) {
    try {
      return loadConfig(daemonConfigSchema, { file: f.config }).dataDir;
    } catch (err) {
      exitOnConfigError(err);
    }
  }
  const up = readUpInfo(f.upDir);
  return up ? dirname(up.inbox) : daemonConfigSchema.parse({}).dataDir;
}

export interface SegmentListing {
  name: string;
  state: 'sealed' | 'open' | 'temp';
  items: number;
  bytes: number;
  age_seconds: number;
}

/** What waits on disk, oldest first (names sort in FIFO order). Reads only; safe while the daemon runs. */
export function listSpool(dataDir: string, now = Date.now()): SegmentListing[] {
  const dir = join(dataDir, 'buffer');
  return readdirSync(dir)
    .filter((n) => n.includes('.ndjson'))
    .sort()
    .map((name) => {
      const data = readFileSync(join(dir, name));
      const state = name.endsWith('.open') ? 'open' : name.endsWith('.tmp') ? 'temp' : 'sealed';
      const t = segmentTime(name.replace(/\.tmp$/, ''));
      return { name, state, items: splitSegment(data).items.length, bytes: statSync(join(dir, name)).size, age_seconds: t ? Math.round((now - t) / 1000) : 0 };
    });
}

export function registerSpoolCommand(program: Command): void {
  const spool = program.command('spool').description('show what waits on disk, oldest first');
  const common = (c: Command) =>
    c
      .option('--data-dir <dir>', "daemon data dir (holds buffer/)")
      .option('-c, --config <file>', 'daemon config file to take dataDir from')
      .option('--up-dir <dir>', 'folder of a `bitville-apm up`', './.bitville')
      .option('--json', 'machine-readable output');

  common(spool.command('ls'))
    .description('list spool segments, oldest first')
    .action((flags: SpoolFlags) => {
      const dataDir = resolveDataDir(flags);
      const rows = listSpool(dataDir);
      if (flags.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      console.log(`spool ${join(dataDir, 'buffer')}: ${rows.length} segment(s), ${rows.reduce((n, r) => n + r.items, 0)} item(s), ${rows.reduce((n, r) => n + r.bytes, 0)} bytes`);
      for (const r of rows) console.log(`  ${r.name}  ${r.state.padEnd(6)} ${String(r.items).padStart(7)} items ${String(r.bytes).padStart(11)} bytes  ${r.age_seconds} s old`);
      const quarantined = readdirSync(join(dataDir, 'quarantine'), { withFileTypes: true }).filter((d) => d.isFile()).length;
      if (quarantined > 0) console.log(`quarantine: ${quarantined} file(s) in ${join(dataDir, 'quarantine')}`);
    });

  common(spool.command('inspect'))
    .description('show the items of one segment (default: the oldest)')
    .argument('[segment]', 'segment file name')
    .option('--limit <n>', 'items to show', '20')
    .action((segment: string | undefined, flags: SpoolFlags) => {
      const dataDir = resolveDataDir(flags);
      const name = segment ?? listSpool(dataDir)[0]?.name;
      if (!name) {
        console.log('the spool is empty');
        return;
      }
      const { items, badLines, tornTail } = splitSegment(readFileSync(join(dataDir, 'buffer', name)));
      const limit = Number(flags.limit ?? 20);
      const rows = items.slice(0, limit).map((line, i) => describe(line, i));
      if (flags.json) {
        console.log(JSON.stringify({ segment: name, items: items.length, bad_lines: badLines, torn_tail: tornTail, shown: rows }, null, 2));
        return;
      }
      console.log(`${name}: ${items.length} item(s)${badLines ? `, ${badLines} bad line(s)` : ''}${tornTail ? ', torn last line' : ''}`);
      for (const r of rows) console.log(`  #${r.index} ${r.correlation_id}  project=${r.project}  ${r.method} ${r.url}  ${r.duration_ms} ms  ${r.bytes} bytes`);
      if (items.length > rows.length) console.log(`  … ${items.length - rows.length} more (--limit)`);
    });
}

function describe(line: Buffer, index: number) {
  const p = JSON.parse(line.toString('utf8')) as Record<string, unknown>;
  const req = (p.request ?? {}) as Record<string, unknown>;
  const timing = (p.timing ?? {}) as Record<string, unknown>;
  return {
    index,
    correlation_id: String(p.correlation_id ?? '-'),
    project: String(p.project ?? '-'),
    method: String(req.method ?? '-'),
    url: String(req.uri ?? req.url ?? '-'),
    duration_ms: Number(timing.duration_ms ?? timing.elapsed_ms ?? p.elapsed_ms ?? 0),
    bytes: line.length,
  };
}
