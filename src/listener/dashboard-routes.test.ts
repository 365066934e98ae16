import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fastify } from 'fastify';
import { registerDashboardRoutes } from './dashboard-routes.js';

function builtDashboard(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bitville-dashboard-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="app"></div><script type="module" src="/assets/app-1a2b.js"></script>');
  writeFileSync(join(dir, 'assets', 'app-1a2b.js'), `console.log(${JSON.stringify('x'.repeat(2000))});`);
  return dir;
}

test('serves index.html for every client route and hashed assets with long caching, gzip and ETag', async () => {
  const dir = builtDashboard();
  const app = fastify();
  registerDashboardRoutes(app, { dir });
  try {
    for (const path of ['/', '/search?url=%2Fcheckout', '/requests/abc-123?project=shop', '/endpoint?key=GET%20%2Fx']) {
      const res = await app.inject({ url: path });
      assert.equal(res.statusCode, 200, path);
      assert.match(res.headers['content-type'] as string, /^text\/html/);
      assert.match(res.headers['content-security-policy'] as string, /default-src 'self'/);
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.match(res.body, /id="app"/);
    }
    const js = await app.inject({ url: '/assets/app-1a2b.js', headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['content-encoding'], 'gzip');
    assert.match(js.headers['cache-control'] as string, /immutable/);
    assert.match(gunzipSync(js.rawPayload).toString(), /^console\.log/);
    const again = await app.inject({ url: '/assets/app-1a2b.js', headers: { 'if-none-match': js.headers.etag as string } });
    assert.equal(again.statusCode, 304);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('answers only files of the build: unknown and traversal paths are 404, never the filesystem', async () => {
  const dir = builtDashboard();
  writeFileSync(join(dir, 'secret.txt'), 'no'); // not under assets/: not servable either
  const app = fastify();
  registerDashboardRoutes(app, { dir });
  try {
    for (const path of ['/assets/nope.js', '/assets/../index.html', '/assets/%2e%2e/secret.txt', '/assets/..%2fsecret.txt', '/secret.txt']) {
      const res = await app.inject({ url: path });
      assert.notEqual(res.statusCode, 200, path);
      assert.doesNotMatch(res.body, /^no$/);
    }
    assert.equal((await app.inject({ url: '/api/v1/unknown' })).statusCode, 404);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a listener without a built dashboard says how to build it', async () => {
  const app = fastify();
  registerDashboardRoutes(app, { dir: join(tmpdir(), 'bitville-no-such-dashboard') });
  try {
    const res = await app.inject({ url: '/' });
    assert.equal(res.statusCode, 503);
    assert.match(res.body, /npm run build/);
  } finally {
    await app.close();
  }
});
