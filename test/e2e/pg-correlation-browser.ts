/** The dashboard half of the lock scenario (pg-correlation.test.ts): B's Database panel in headless Chromium. Not a test file itself. */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const OUT = new URL('../../../test-output/', import.meta.url).pathname; // dist/test/e2e -> repo root
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Signs in, opens B's request page and checks its Database panel names the lock and A's request; then A's session page. */
export async function checkDatabasePanel(listenerUrl: string, token: string, project: string, idB: string, idA: string): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(`${listenerUrl}/`);
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.chart, .state').first().waitFor();
    await page.goto(`${listenerUrl}/requests/${encodeURIComponent(idB)}?project=${project}`);
    const panel = page.getByTestId('database-panel');
    await panel.waitFor();
    await panel.getByTestId('db-locks').waitFor();
    const locks = await panel.getByTestId('db-locks').innerText();
    assert.match(locks, /ShareLock/);
    assert.ok(locks.includes(idA), `the panel names A's correlation id:\n${locks}`);
    assert.match(await panel.innerText(), /Lock: transactionid/);
    await page.screenshot({ path: join(OUT, 'dashboard-request-database.png'), fullPage: true });

    // Following the holder's session link: the session page lists B as blocked.
    await panel.getByTestId('db-session').first().getByRole('link', { name: /^pid \d+$/ }).click();
    const blocked = page.getByTestId('db-session-blocked');
    await blocked.waitFor();
    assert.ok((await blocked.innerText()).includes(idB), 'the blocking session page lists B');

    // The overview: the database panel shows A's session as the top blocker.
    await page.goto(`${listenerUrl}/?project=${project}`);
    await page.getByTestId('db-overview').locator('.chart canvas').first().waitFor(); // active sessions by wait-event type
    assert.match(await page.getByTestId('db-overview').innerText(), /Lock/, 'the Lock series is in the chart legend');
    const top = page.getByTestId('db-top-blockers');
    await top.waitFor();
    assert.ok((await top.innerText()).includes(idA), 'the overview names A as the top blocker');
    await page.screenshot({ path: join(OUT, 'dashboard-overview-database.png'), fullPage: true });
  } finally {
    await browser.close();
  }
}
