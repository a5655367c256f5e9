/**
 * A secret in the dashboard, in real headless Chromium against a real master and worker: a job
 * that prints its secret, live and after it ended, shows the mask in its panel's log viewer, and
 * neither its page nor any other page the dashboard has holds the value, in its text or its HTML.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TitanClient } from '../../src/sdk/client.js';
import { browserAvailable, launchBrowser, login, type OpenPage, openTestPage, screenshot } from '../helpers/browser.js';
import { Cluster } from '../helpers/cluster.js';
import { sh, waitJob } from '../helpers/scripts.js';

const VALUE = 'sk-browser-6f1d9a0c4b7e2285';
/** Prints its secret at once and again a few seconds later, so the panel shows it live first. */
const PRINTS = sh('echo "first: $API_KEY"\nsleep 3\necho "last: $API_KEY"\n', 'prints.sh');

describe.skipIf(!browserAvailable())('secrets in the dashboard', () => {
  const cluster = new Cluster();
  let client: TitanClient;
  let browser: Browser;
  let base = '';
  const opened: OpenPage[] = [];

  /** Neither the page's text nor its HTML holds the value. */
  const expectNoValue = async (page: Page, where: string): Promise<void> => {
    expect(await page.content(), where).not.toContain(VALUE);
    expect(await page.locator('body').innerText(), where).not.toContain(VALUE);
  };

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
    await client.call('secret.set', { name: 'API_KEY', value: VALUE });
  }, 60_000);
  afterAll(async () => {
    for (const o of opened) await o.context.close().catch(() => undefined);
    await browser?.close();
    await cluster.stop();
  });

  it('the job page and its log viewer show the mask, live and after the end, never the value', async () => {
    const o = await openTestPage(browser, opened);
    const { page, errors } = o;
    await login(page, base, cluster.token);
    const { runId } = await client.submit({ name: 'e2e-secret', jobs: [{ id: 'prints', script: PRINTS, secrets: ['API_KEY'] }] });
    await waitJob(client, `${runId}/prints`, 'RUNNING');
    await page.goto(`${base}/runs/${runId}?job=prints`);
    const log = page.locator('aside.job-panel pre.log');
    await log.filter({ hasText: 'first: ***' }).waitFor({ timeout: 15_000 });
    expect(await log.textContent()).not.toContain('last:');
    await expectNoValue(page, 'the job panel while the job runs');
    await log.filter({ hasText: 'last: ***' }).waitFor({ timeout: 15_000 });
    await page.locator('aside.job-panel .job-panel-status .badge', { hasText: 'Completed' }).waitFor({ timeout: 15_000 });
    await screenshot(page, 'secret-masked', { fullPage: false });
    await expectNoValue(page, 'the job panel after the job ended');
    // Loaded afresh (the stored log, not the live stream).
    await page.reload();
    await log.filter({ hasText: 'last: ***' }).waitFor({ timeout: 15_000 });
    await expectNoValue(page, 'the job panel reloaded');
    for (const path of ['/', '/runs', `/runs/${runId}`, '/audit', '/workers', '/agent-runs', '/services', '/schedules', '/approvals', '/store', '/artifacts']) {
      await page.goto(`${base}${path}`);
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      await page.waitForLoadState('networkidle');
      await expectNoValue(page, path);
    }
    errors.expectNone('the pages of a run with a secret');
  });
});
