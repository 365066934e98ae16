import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSystemCollector } from './system-collector.js';

function proc(dir: string, o: { user: number; idle: number; iowait: number; readSectors: number; ioMs: number }): void {
  writeFileSync(join(dir, 'loadavg'), '1.50 0.75 0.25 2/300 4242\n');
  writeFileSync(join(dir, 'stat'), `cpu  ${o.user} 0 100 ${o.idle} ${o.iowait} 0 0 0 0 0\ncpu0 1 0 1 1 0 0 0 0 0 0\ncpu1 1 0 1 1 0 0 0 0 0 0\nintr 1\n`);
  writeFileSync(join(dir, 'meminfo'), 'MemTotal:       1000000 kB\nMemFree:         100000 kB\nMemAvailable:    250000 kB\nSwapTotal:       200000 kB\nSwapFree:        150000 kB\n');
  writeFileSync(join(dir, 'diskstats'), [
    `   8       0 sda 100 0 ${o.readSectors} 0 50 0 2048 0 0 ${o.ioMs} 0`,
    `   8       1 sda1 100 0 ${o.readSectors} 0 50 0 2048 0 0 ${o.ioMs} 0`,
    '   7       0 loop0 1 0 8 0 0 0 0 0 0 0 0',
  ].join('\n'));
}

test('host metrics from /proc: load, CPU and disk rates since the previous sample, memory; partitions and loop devices left out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bitville-proc-'));
  let now = 1_000_000;
  try {
    const c = createSystemCollector(dir, () => now);
    proc(dir, { user: 1000, idle: 8000, iowait: 900, readSectors: 0, ioMs: 0 });
    const first = await c.collect();
    assert.deepEqual(first.load, { '1m': 1.5, '5m': 0.75, '15m': 0.25 });
    assert.equal(first.cpu, null, 'no rate from one sample');
    assert.deepEqual(first.memory, { total_bytes: 1_024_000_000, available_bytes: 256_000_000, used_percent: 75, swap_used_bytes: 51_200_000 });
    now += 2000;
    proc(dir, { user: 1300, idle: 8500, iowait: 1100, readSectors: 4000, ioMs: 500 }); // +300 user, +500 idle, +200 iowait
    const second = await c.collect();
    assert.deepEqual(second.cpu, { user: 30, system: 0, iowait: 20, idle: 50, steal: 0, cores: 2 });
    assert.deepEqual(second.disks, [{ device: 'sda', read_bytes_per_s: 1_024_000, write_bytes_per_s: 0, busy_percent: 25 }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without /proc (another OS, a locked-down container) every metric is null and nothing throws', async () => {
  const s = await createSystemCollector('/no/such/proc').collect();
  assert.deepEqual(s, { load: null, cpu: null, memory: null, disks: [] });
});
