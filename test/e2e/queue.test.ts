/**
 * Flow control in a real browser (headless Chromium) against a real master and worker: jobs that
 * share a concurrency key of limit 1 wait for it; the Queue page lists the key with its one holder
 * and its waiters, the run page says why a waiting job waits (panel, graph, list), /metrics has
 * the key's gauges, and a limit set from the page lets the waiters run. Light, dark and a phone's
 * width; no console errors, CSP violations or uncaught exceptions.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TitanClient } from '../../src/sdk/client.js';
import { browserAvailable, launchBrowser, login, type OpenPage, openTestPage, screenshot } from '../helpers/browser.js';
import { Cluster, eventually } from '../helpers/cluster.js';
import { py, sh, waitJob, waitRunStatus } from '../helpers/scripts.js';

/** Runs until the test sets the data bus key named by its argument. */
const HELD = py('import sys\nfrom titan_sdk import TitanClient\nTitanClient().wait_for_value(sys.argv[1], timeout=120)\n', 'held.py');
const QUICK = sh('echo "step $TITAN_JOB_ID done"\n', 'quick.sh');
const KEY = 'e2e-db';
const JOBS = ['load-1', 'load-2', 'load-3', 'load-4'];
const REASON = `key ${KEY} is at its limit (1/1 running)`;

describe.skipIf(!browserAvailable())('the Queue page and waiting reasons in a browser', () => {
  const cluster = new Cluster();
  let client: TitanClient;
  let browser: Browser;
  let base = '';
  const opened: OpenPage[] = [];
  const release = `e2e-queue-release-${Date.now()}`;
  let runId = '';

  const signedIn = async (colorScheme: 'light' | 'dark', next: string): Promise<OpenPage> => {
    const o = await openTestPage(browser, opened, { colorScheme, prefix: 'queue-' });
    await login(o.page, base, cluster.token, next);
    return o;
  };
  const metrics = async (): Promise<string> => (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${cluster.token}` } })).text();
  const keyRow = (page: Page) => page.locator('tr').filter({ has: page.locator('th code', { hasText: new RegExp(`^${KEY}$`) }) });

  beforeAll(async () => {
    const [b] = await Promise.all([
      launchBrowser(),
      (async () => {
        await cluster.startMaster();
        await cluster.startWorker({ slots: 8 });
      })(),
    ]);
    browser = b;
    base = `http://127.0.0.1:${cluster.httpPort}`;
    client = cluster.client();
    // Four jobs, one key of limit 1, slots for all of them: one runs, three wait for the key.
    ({ runId } = await client.submit({ name: 'e2e-flow', jobs: JOBS.map((id) => ({ id, script: HELD, args: [release], concurrency: { key: KEY, limit: 1 } })) }));
    await eventually(
      async () => {
        const jobs = (await client.getRun(runId)).jobs;
        return jobs.filter((j) => j.status === 'RUNNING').length === 1 && jobs.filter((j) => j.status === 'QUEUED' && j.waitingReason === REASON).length === 3;
      },
      30_000,
      'one job running and three waiting for the key',
    );
  });

  afterAll(async () => {
    for (const o of opened) await o.context.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    if (client) await client.set(release, 'go').catch(() => undefined);
    await cluster.stop();
  });

  it('lists the key with its holder and its waiters, and /metrics has its gauges', async () => {
    const running = (await client.getRun(runId)).jobs.find((j) => j.status === 'RUNNING');
    expect(running).toBeDefined();
    for (const colorScheme of ['light', 'dark'] as const) {
      const { page, errors } = await signedIn(colorScheme, '/queue');
      await page.getByRole('heading', { name: 'Queue', level: 1 }).waitFor();
      const row = keyRow(page);
      await row.waitFor();
      const cells = row.locator('td');
      expect(await cells.nth(0).textContent()).toBe("none: the jobs' own");
      expect(await cells.nth(1).textContent()).toBe('1');
      const holders = row.getByRole('list', { name: `Jobs holding ${KEY}` }).getByRole('link');
      expect(await holders.count()).toBe(1);
      expect(await holders.textContent()).toBe(`${runId}/${running?.spec.id}`);
      expect(await holders.getAttribute('href')).toBe(`/runs/${runId}?job=${running?.spec.id}`);
      expect(await cells.nth(3).textContent()).toBe('3');
      expect(await page.locator('.page-subtitle').textContent()).toBe('1 flow-control key: 1 running while holding one, 3 waiting for one.');
      await screenshot(page, `queue-waiting${colorScheme === 'dark' ? '-dark' : ''}`);
      errors.expectNone(`the Queue page (${colorScheme})`);
    }

    const text = await metrics();
    expect(text).toContain(`titan_flow_key_holders{key="${KEY}"} 1`);
    expect(text).toContain(`titan_flow_key_waiters{key="${KEY}"} 3`);
    // No cluster limit is set yet: no limit gauge.
    expect(text).not.toContain('titan_flow_key_limit{');
  });

  it('the run page says why a waiting job waits: in its panel, on its node and in the job list', async () => {
    const waiting = (await client.getRun(runId)).jobs.find((j) => j.status === 'QUEUED');
    const id = waiting?.spec.id ?? '';
    const { page, errors } = await signedIn('light', `/runs/${runId}?job=${id}`);
    const panel = page.locator('aside.job-panel');
    await panel.getByRole('heading', { name: id }).waitFor();
    expect(await panel.locator('.job-waiting').textContent()).toBe(`Waiting: ${REASON}`);
    // The panel names the key in its details (folded under the log), linked to it on the Queue page.
    await panel.getByRole('heading', { name: 'Details' }).click();
    const keyLink = panel.locator('.details-row', { hasText: 'Concurrency' }).getByRole('link', { name: KEY });
    expect(await keyLink.getAttribute('href')).toBe(`/queue?key=${KEY}`);
    expect(await panel.locator('.details-row', { hasText: 'Concurrency' }).locator('dd').textContent()).toBe(`key ${KEY}, at most 1 at once`);
    const why = page.locator(`.react-flow__node[data-id="${id}"] .job-node-why`);
    expect(await why.textContent()).toBe(REASON);
    expect(await why.isVisible()).toBe(true);
    await screenshot(page, 'queue-run-waiting', { fullPage: false });

    await page.getByRole('button', { name: 'List', exact: true }).click();
    const listRow = page.locator('.job-list tr').filter({ has: page.getByRole('button', { name: id, exact: true }) });
    expect(await listRow.locator('.job-list-why').textContent()).toBe(REASON);
    // The key's link opens the Queue page filtered to it.
    await keyLink.click();
    await page.waitForURL(`${base}/queue?key=${KEY}`);
    expect(await page.getByLabel('Key', { exact: true }).inputValue()).toBe(KEY);
    await keyRow(page).waitFor();
    errors.expectNone('the run page of a waiting job');
  });

  it("a rate-limited key's waiters show when the next start is due", async () => {
    // One start an hour: the first job takes the token, the other two wait for the next, most of an hour away.
    const { runId: rated } = await client.submit({ name: 'e2e-rated', jobs: ['first', 'second', 'third'].map((id) => ({ id, script: QUICK, rateLimit: { key: 'e2e-api', limit: 1, per: 'hour' } })) });
    try {
      for (const id of ['second', 'third']) expect((await waitJob(client, `${rated}/${id}`, 'QUEUED')).waitingReason).toMatch(/^rate limit e2e-api: next start at \d\d:\d\d:\d\d UTC$/);
      const { page, errors } = await signedIn('light', '/queue?key=e2e-api');
      const row = page.locator('tr').filter({ has: page.locator('th code', { hasText: /^e2e-api$/ }) });
      await row.locator('td').nth(3).filter({ hasText: /^2$/ }).waitFor();
      // "in 5x min", with the exact time in its tooltip.
      const next = row.locator('td').nth(4).locator('time');
      expect(await next.textContent()).toMatch(/^in [45]\d min$/);
      expect(Date.parse((await next.getAttribute('datetime')) ?? '')).toBeGreaterThan(Date.now());
      expect(await metrics()).toContain('titan_flow_key_waiters{key="e2e-api"} 2');
      await screenshot(page, 'queue-rate-limited', { fullPage: false });
      errors.expectNone('a rate-limited key');
    } finally {
      await client.cancelRun(rated);
    }
  });

  it('a limit set from the page lets the waiters run; a wrong one is refused in the form; the limit can be removed', async () => {
    const { page, errors } = await signedIn('light', '/queue');
    const row = keyRow(page);
    await row.getByRole('button', { name: `Set the limit on ${KEY}` }).click();
    const dialog = page.getByRole('dialog', { name: `Limit on ${KEY}` });
    await dialog.waitFor();
    // The first field has the focus: type at once.
    expect(await page.evaluate('document.activeElement?.closest("dialog") !== null && document.activeElement?.tagName')).toBe('INPUT');
    const atOnce = dialog.getByLabel('At once');
    await atOnce.fill('0');
    await dialog.getByRole('button', { name: 'Set limit' }).click();
    await dialog.getByText('at least 1').waitFor();
    expect(await atOnce.getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'queue-limit-dialog', { fullPage: false });
    await dialog.getByLabel('Burst').fill('5');
    await atOnce.fill('4');
    await dialog.getByRole('button', { name: 'Set limit' }).click();
    await dialog.getByText('a burst needs a rate: how many starts per period').waitFor();
    // Nothing was sent yet.
    expect((await client.getRun(runId)).jobs.filter((j) => j.status === 'RUNNING').length).toBe(1);
    await dialog.getByLabel('Burst').fill('');
    await dialog.getByRole('button', { name: 'Set limit' }).click();
    await page.getByText(`The limit on ${KEY} is now 4 at once; it applies at once.`).waitFor();
    await dialog.waitFor({ state: 'detached' });

    // The waiters start: the page follows, with the key's meter at 4 of 4.
    await eventually(async () => (await client.getRun(runId)).jobs.every((j) => j.status === 'RUNNING'), 20_000, 'every job running');
    await row.locator('td').nth(0).filter({ hasText: /^4 at once$/ }).waitFor();
    await row.locator('td').nth(3).filter({ hasText: /^0$/ }).waitFor({ timeout: 10_000 });
    expect(await row.getByRole('meter').getAttribute('aria-valuenow')).toBe('4');
    expect(await row.getByRole('list', { name: `Jobs holding ${KEY}` }).getByRole('link').count()).toBe(4);
    const text = await metrics();
    expect(text).toContain(`titan_flow_key_limit{key="${KEY}"} 4`);
    expect(text).toContain(`titan_flow_key_holders{key="${KEY}"} 4`);
    expect(text).toContain(`titan_flow_key_waiters{key="${KEY}"} 0`);
    await screenshot(page, 'queue-limit-set');

    // A phone's width: the page fits it, the table scrolls inside its box.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await screenshot(page, 'queue-phone');
    await page.setViewportSize({ width: 1280, height: 800 });

    await row.getByRole('button', { name: `Remove the limit on ${KEY}` }).click();
    const confirm = page.getByRole('dialog', { name: `Remove the limit on ${KEY}?` });
    await confirm.getByRole('button', { name: 'Remove limit' }).click();
    await page.getByText(`Removed the limit on ${KEY}: its jobs follow their own limits again.`).waitFor();
    await row.locator('td').nth(0).filter({ hasText: "none: the jobs' own" }).waitFor();
    expect((await (await fetch(`${base}/api/limits`, { headers: { authorization: `Bearer ${cluster.token}` } })).json()) as unknown).toMatchObject({ keys: [{ key: KEY, limit: null }] });

    // The jobs end: the key has nothing left and leaves the page.
    await client.set(release, 'go');
    await waitRunStatus(client, runId, 'COMPLETED');
    await page.getByText('No key has a cluster limit').waitFor({ timeout: 10_000 });
    expect(await metrics()).not.toContain('titan_flow_key_holders{');
    errors.expectNone('setting and removing a limit');
  });
});
