/**
 * The Triggers page in real headless Chromium against a real master and worker: after a signed
 * delivery and a forged one, it lists the trigger with its URL, its authentication and both
 * deliveries (the accepted one linking to its run, the refused one with its reason), and the run
 * page says which trigger and delivery started the run.
 */
import { createHmac } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TitanClient } from '../../src/sdk/client.js';
import { browserAvailable, launchBrowser, login, type OpenPage, openTestPage, screenshot } from '../helpers/browser.js';
import { Cluster } from '../helpers/cluster.js';
import { sh } from '../helpers/scripts.js';

const KEY = 'e2e-hook-key';

describe.skipIf(!browserAvailable())('the Triggers page', () => {
  const cluster = new Cluster();
  let client: TitanClient;
  let browser: Browser;
  let base = '';
  const opened: OpenPage[] = [];

  beforeAll(async () => {
    const [b] = await Promise.all([
      launchBrowser(),
      (async () => {
        await cluster.startMaster();
        await cluster.startWorker();
      })(),
    ]);
    browser = b;
    base = `http://127.0.0.1:${cluster.httpPort}`;
    client = cluster.client();
    await client.call('secret.set', { name: 'HOOK_KEY', value: KEY });
  }, 60_000);
  afterAll(async () => {
    for (const o of opened) await o.context.close().catch(() => undefined);
    await browser?.close();
    await cluster.stop();
  });

  it('lists a trigger with its URL, authentication and last deliveries; the run page names the delivery that started it', async () => {
    await client.trigger.create('gh', { name: 'on-push', jobs: [{ id: 'build', script: sh('exit 0\n', 'build.sh') }] }, { secret: 'HOOK_KEY' });
    const body = '{"ref":"main"}';
    const post = (signature: string) => fetch(`${base}/hooks/gh`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body });
    const accepted = (await (await post(`sha256=${createHmac('sha256', KEY).update(body).digest('hex')}`)).json()) as { runId: string; delivery: string };
    expect((await post(`sha256=${'0'.repeat(64)}`)).status).toBe(401);

    const { page, errors } = await openTestPage(browser, opened);
    await login(page, base, cluster.token);
    await page.goto(`${base}/triggers`);
    const row = page.locator('tr', { hasText: 'on-push' });
    await row.waitFor({ timeout: 15_000 });
    const text = await row.innerText();
    expect(text).toContain(`POST ${base}/hooks/gh`);
    expect(text).toContain('HMAC-SHA256 with the secret HOOK_KEY');
    expect(text).toContain('Refused');
    expect(text).toContain('401: the signature does not match the body');
    await screenshot(page, 'triggers', { fullPage: false });
    await row.getByRole('link', { name: accepted.runId }).click();
    await page.locator('.run-started-by', { hasText: `trigger gh, delivery ${accepted.delivery}` }).waitFor({ timeout: 15_000 });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Triggers' }).waitFor();
    errors.expectNone('the Triggers page and the run it links to');
  });
});
