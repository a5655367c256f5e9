/**
 * A secret in the dashboard, in real headless Chromium against a real master and worker: a job
 * that prints its secret, live and after it ended, shows the mask in its panel's log viewer, and
 * neither its page nor any other page the dashboard has holds the value, in its text or its HTML.
 * The Access page sets a secret without ever showing it and shows a token it creates only once.
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
    for (const path of ['/', '/runs', `/runs/${runId}`, '/audit', '/workers', '/agent-runs', '/services', '/schedules', '/approvals', '/store', '/artifacts', '/access']) {
      await page.goto(`${base}${path}`);
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      await page.waitForLoadState('networkidle');
      await expectNoValue(page, path);
    }
    errors.expectNone('the pages of a run with a secret');
  });

  it('the Access page takes a secret through a write-only field, lists names only, and shows a new token once', async () => {
    const PAGE_VALUE = 'sk-page-typed-3e9b27d1c05a';
    const o = await openTestPage(browser, opened);
    const { page, errors } = o;
    await login(page, base, cluster.token, '/access');
    await page.getByRole('heading', { name: 'Secrets' }).waitFor();
    await page.getByRole('row', { name: /API_KEY/ }).waitFor();

    await page.getByRole('button', { name: 'Add a secret…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('page typed');
    await dialog.getByLabel('Value').fill(PAGE_VALUE);
    await dialog.getByRole('button', { name: 'Add secret' }).click();
    await dialog.getByText(/named like an environment variable/).waitFor();
    await dialog.getByLabel('Name').fill('PAGE_TYPED');
    await dialog.getByRole('button', { name: 'Add secret' }).click();
    await page.getByRole('row', { name: /PAGE_TYPED/ }).waitFor();
    expect((await client.call('secrets.list', {})).secrets.map((x) => x.name)).toContain('PAGE_TYPED');
    expect(await page.content()).not.toContain(PAGE_VALUE);

    await page.getByRole('button', { name: 'Create a token…' }).click();
    await dialog.getByLabel('Name').fill('page-made');
    await dialog.getByRole('button', { name: 'Create token' }).click();
    const tokenField = dialog.getByLabel('Token', { exact: true });
    await tokenField.waitFor();
    const token = await tokenField.inputValue();
    expect(token).toMatch(/^tok\./);
    const asToken = (): Promise<Response> => fetch(`${base}/api/runs`, { headers: { authorization: `Bearer ${token}` } });
    expect((await asToken()).status).toBe(200);
    await dialog.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('row', { name: /page-made/ }).waitFor();
    await screenshot(page, 'access-page', { fullPage: true });
    expect(await page.content(), 'the token is shown once, in its dialog').not.toContain(token);

    await page.getByRole('button', { name: 'Revoke the token page-made' }).click();
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('row', { name: /page-made/ }).waitFor({ state: 'detached' });
    expect((await asToken()).status).toBe(401);
    errors.expectNone('the Access page');
  });
});
