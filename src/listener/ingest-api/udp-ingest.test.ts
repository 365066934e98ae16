import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { waitFor } from '../../../test/helpers/wait-for.js';
import { startTestListener, variantProfile, type TestListener } from '../../../test/helpers/listener-harness.js';

let l: TestListener;
before(async () => {
  l = await startTestListener({ udp: { listen: '127.0.0.1:0', secret: 'udp-secret', projects: ['project-a'] } });
});
after(async () => l.close());

async function send(datagrams: string[]): Promise<void> {
  const s = createSocket('udp4');
  const udp = l.udp;
  assert.ok(udp, 'udp is on');
  for (const d of datagrams) await new Promise<void>((resolve, reject) => s.send(d, udp.port, udp.host, (err) => (err ? reject(err) : resolve())));
  s.close();
}

test('UDP datagrams with the shared secret are stored without it; without it, or for another project, they are rejected', async () => {
  const signed = (id: string, project = 'project-a') => JSON.stringify({ ...variantProfile({ id, project, uri: '/udp' }), _secret: 'udp-secret' });
  await send([signed('udp-1'), JSON.stringify(variantProfile({ id: 'udp-2', uri: '/udp' })), JSON.stringify({ ...variantProfile({ id: 'udp-3', uri: '/udp' }), _secret: 'wrong' }), 'garbage', signed('udp-4', 'project-b'), signed('udp-5')]);
  const page = await waitFor(async () => {
    const p = (await l.get('/api/v1/requests?url=/udp', 'token-all')).json as { total: number; items: { correlation_id: string }[] };
    return p.total >= 2 ? p : null;
  }, { timeoutMs: 5000, what: 'the two signed UDP profiles to be stored' });
  assert.deepEqual(page.items.map((i) => i.correlation_id).sort(), ['udp-1', 'udp-5']);
  const detail = await l.get('/api/v1/requests/udp-1', 'token-all');
  assert.equal((detail.json.payload as Record<string, unknown>)._secret, undefined);
  const metrics = await (await fetch(`${l.url}/metrics`)).text();
  assert.match(metrics, /ingest_rejected_total\{error_code="not_allowed"\} 1/);
  assert.match(metrics, /ingest_rejected_total\{error_code="bad_secret"\} 1/);
  assert.match(metrics, /ingest_rejected_total\{error_code="invalid_json"\} 1/);
  assert.match(metrics, /ingest_rejected_total\{error_code="project_not_allowed"\} 1/);
});

test('UDP datagrams nested too deep or with a correlation_id over 128 characters are rejected and counted by reason', async () => {
  const deep = `{"_secret":"udp-secret","x":${'['.repeat(65)}${']'.repeat(65)}}`;
  const longId = JSON.stringify({ ...variantProfile({ id: 'u'.repeat(129), uri: '/udp-limits' }), _secret: 'udp-secret' });
  const fine = JSON.stringify({ ...variantProfile({ id: 'u'.repeat(128), uri: '/udp-limits' }), _secret: 'udp-secret' });
  await send([deep, longId, fine]);
  await waitFor(async () => ((await l.get('/api/v1/requests?url=/udp-limits', 'token-all')).json.total === 1 ? true : null), { timeoutMs: 5000, what: 'the 128-character id to be stored' });
  const metrics = await (await fetch(`${l.url}/metrics`)).text();
  assert.match(metrics, /ingest_rejected_total\{error_code="too_deep"\} 1/);
  assert.match(metrics, /ingest_rejected_total\{error_code="id_too_long"\} 1/);
});
