/**
 * A job's durable steps in the dashboard, in real headless Chromium against a real master and
 * worker: its panel shows the steps as a timeline (name, duration, the attempt that ran each,
 * the attempt that took a cached result, the result's size) and the names of the secrets the job
 * declared, never their values.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, launchBrowser, login, type OpenPage, openTestPage, screenshot } from '../helpers/browser.js';
import { Cluster } from '../helpers/cluster.js';
import { py, waitRun } from '../helpers/scripts.js';

const VALUE = 'sk-steps-3b9e51d07a2c';
/** Fails after its first step on attempt 1; attempt 2 takes that step's result and runs the second. */
const TWO_STEPS = py(
  [
    'import os',
    'from titan_sdk import step',
    'attempt = int(os.environ["TITAN_ATTEMPT"])',
    'papers = step("fetch-papers", lambda: ["a", "b", "c"])',
    'if attempt == 1:',
    '    raise SystemExit(2)',
    'step("summarise", lambda: {"count": len(papers)})',
  ].join('\n'),
  'steps.py',
);

describe.skipIf(!browserAvailable())('durable steps in the dashboard', () => {
  const cluster = new Cluster();
  let browser: Browser;
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
  }, 60_000);
  afterAll(async () => {
    for (const o of opened) await o.context.close().catch(() => undefined);
    await browser?.close();
    await cluster.stop();
  });

  it('the job panel shows the steps as a timeline and the declared secrets by name only', async () => {
    const client = cluster.client();
    await client.call('secret.set', { name: 'API_KEY', value: VALUE });
    const { runId } = await client.submit({ name: 'e2e-steps', jobs: [{ id: 'agent', script: TWO_STEPS, retries: 1, secrets: ['API_KEY'] }] });
    expect((await waitRun(client, runId)).jobs.map((j) => [j.status, j.attempt])).toEqual([['COMPLETED', 2]]);

    const { page, errors } = await openTestPage(browser, opened);
    const base = `http://127.0.0.1:${cluster.httpPort}`;
    await login(page, base, cluster.token);
    await page.goto(`${base}/runs/${runId}?job=agent`);
    const rows = page.locator('aside.job-panel .step-timeline > li');
    await rows.nth(1).waitFor({ timeout: 15_000 });
    expect(await rows.count()).toBe(2);
    const first = (await rows.nth(0).innerText()).replace(/\s+/g, ' ');
    const second = (await rows.nth(1).innerText()).replace(/\s+/g, ' ');
    expect(first).toMatch(/^fetch-papers [\d.]+ (?:ms|s), run in attempt 1, cached in attempt 2, result 13 B/);
    expect(second).toMatch(/^summarise [\d.]+ (?:ms|s), run in attempt 2, result 11 B/);
    // Both completed: the row says so by its class and its icon, not by a character.
    expect(await page.locator('aside.job-panel .step-timeline > li.step-completed svg.icon').count()).toBe(2);
    // The secret names are in the details, folded under the log.
    await page.locator('aside.job-panel').getByRole('heading', { name: 'Details' }).click();
    const secrets = page.getByRole('list', { name: 'Secrets the job receives (names only)' });
    expect(await secrets.innerText()).toBe('API_KEY');
    expect(await page.content()).not.toContain(VALUE);
    await page.locator('aside.job-panel .step-timeline').scrollIntoViewIfNeeded();
    await screenshot(page, 'job-steps', { fullPage: false });
    errors.expectNone('the job panel of a job with steps');
  });
});
