import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawnListener } from '../helpers/listener-process.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const auth = { Authorization: 'Bearer limits-token' };

/** VmRSS and VmHWM (peak) of a process, in MiB, from /proc. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

function batch(n: number, tag: string): Buffer {
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ correlation_id: `${tag}-${i}`, project: 'shop', timestamp: Date.now() / 1000, elapsed_ms: 100 + i, request: { method: 'GET', uri: `/${tag}/${i}` }, sql: { queries: [{ sql: `SELECT ${i}`, time_ms: 1 }] } }),
  );
  return gzipSync(lines.join('\n'));
}

const post = (url: string, body: Buffer) =>
  fetch(`${url}/v1/ingest`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip' }, body }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }));

test('six 60 KB gzip bodies inflating to 60 MiB lines are rejected as line_too_large with the listener RSS bounded, while a normal batch beside them is stored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bitville-listener-limits-'));
  dirs.push(dir);
  const l = await spawnListener(dir, { tokens: { 'limits-token': ['shop'] }, log: { level: 'warn' } });
  const pid = l.proc.pid ?? 0;
  try {
    assert.equal((await post(l.url, batch(200, 'warm'))).json.accepted, 200); // workers started and warm
    const before = memory(pid);
    const line = Buffer.concat([Buffer.from('{"correlation_id":"bomb","project":"shop","pad":"'), Buffer.alloc(60 * 1024 * 1024, 0x61), Buffer.from('"}\n')]);
    const bomb = gzipSync(line, { level: 9 });
    assert.ok(bomb.length < 70 * 1024, `bomb is ${bomb.length} bytes`);

    const [normal, ...bombs] = await Promise.all([post(l.url, batch(300, 'beside')), ...Array.from({ length: 6 }, () => post(l.url, bomb))]);
    for (const b of bombs) assert.deepEqual(b, { status: 200, json: { accepted: 0, duplicates: 0, rejected: [{ line: 1, error: 'line_too_large' }] } });
    assert.deepEqual(normal, { status: 200, json: { accepted: 300, duplicates: 0, rejected: [] } });
    const after = memory(pid);
    // Before the fix each body was inflated whole and parsed: 4 of them took RSS from 104 MB to 854 MB.
    assert.ok(after.peak - before.rss < 200, `peak RSS ${after.peak.toFixed(0)} MiB from ${before.rss.toFixed(0)} MiB before the bodies`);
    assert.ok(after.rss - before.rss < 150, `RSS kept ${after.rss.toFixed(0)} MiB from ${before.rss.toFixed(0)} MiB`);
    process.stdout.write(`# listener RSS ${before.rss.toFixed(0)} MiB before, peak ${after.peak.toFixed(0)} MiB, after ${after.rss.toFixed(0)} MiB\n`);

    const search = (await (await fetch(`${l.url}/api/v1/requests?project=shop&url=/beside/`, { headers: auth })).json()) as { total: number };
    assert.equal(search.total, 300);
    const metrics = await (await fetch(`${l.url}/metrics`)).text();
    assert.match(metrics, /bitville_listener_ingest_rejected_total\{error_code="line_too_large"\} 6/);
  } finally {
    l.proc.kill('SIGTERM');
    assert.equal(await l.exited, 0);
  }
});
