/**
 * Every page of the dashboard on a populated cluster at 1440×900 and on a phone (390×844), in both
 * themes, saved as `test-artifacts/screenshots/screens-<size>-<theme>-<page>.png` to look at. On the
 * phone nothing may scroll sideways (the document is no wider than the window), and on every page
 * no icon is an emoji or symbol character (they show as empty boxes without an emoji font): icons
 * are SVGs. The phone's menu button opens and closes the navigation as a disclosure should.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TitanClient } from '../../src/sdk/client.js';
import { browserAvailable, launchBrowser, login, type OpenPage, openTestPage, screenshot, SIGNED_OUT_SESSION_CHECK } from '../helpers/browser.js';
import { Cluster, eventually } from '../helpers/cluster.js';
import { py, sh, waitJob, waitRunStatus } from '../helpers/scripts.js';

const QUICK = sh('echo "step $TITAN_JOB_ID done"\n', 'quick.sh');
const FAILS = sh('echo "about to fail" >&2\nexit 3\n', 'fails.sh');
/** A service that is up at once and ends by itself when its worker is gone (or after two minutes). */
const SERVICE = py(
  `import os, time
parent = os.getppid()
print("service up", flush=True)
deadline = time.time() + 120
while time.time() < deadline and os.getppid() == parent:
    time.sleep(0.2)
`,
  'service.py',
);

const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
/**
 * Characters that are icons rather than text: pictographs, arrows, technical and geometric
 * shapes, dingbats and the like; none may be on a page.
 */
const ICON_CHARACTERS = /[\p{Extended_Pictographic}\u2190-\u21FF\u2300-\u23FF\u25A0-\u25FF\u2600-\u27BF\u2900-\u297F\u2B00-\u2BFF]/gu;

describe.skipIf(!browserAvailable())('every page at desktop and phone sizes, in both themes', () => {
  const cluster = new Cluster(['--metrics-sample', '0.5']);
  let client: TitanClient;
  let browser: Browser;
  let base = '';
  const opened: OpenPage[] = [];
  const seeded = { pipeline: '', failed: '', service: '', agent: 'screens-agent' };

  beforeAll(async () => {
    const [b] = await Promise.all([
      launchBrowser(),
      (async () => {
        await cluster.startMaster();
        await cluster.startWorker({ slots: 4 });
      })(),
    ]);
    browser = b;
    base = `http://127.0.0.1:${cluster.httpPort}`;
    client = cluster.client();
    const pipeline = await client.submit({
      name: 'nightly-training-pipeline',
      tags: ['team=ml', 'env=staging'],
      jobs: [
        { id: 'fetch-dataset', script: QUICK },
        { id: 'train-model', script: QUICK, dependsOn: ['fetch-dataset'] },
        { id: 'evaluate-model', script: QUICK, dependsOn: ['fetch-dataset'] },
        { id: 'publish-report', script: QUICK, dependsOn: ['train-model', 'evaluate-model'] },
      ],
    });
    seeded.pipeline = pipeline.runId;
    const failed = await client.submit({ name: 'broken-import', jobs: [{ id: 'import', script: FAILS, retries: 0 }, { id: 'index', script: QUICK, dependsOn: ['import'] }] });
    seeded.failed = failed.runId;
    const stage = await client.submit({ name: 'agent-plan', agentRunId: seeded.agent, jobs: [{ id: 'plan', script: QUICK }] });
    const service = await client.submit({ name: 'model-server', jobs: [{ id: 'web', kind: 'service', script: SERVICE, service: { readiness: 'none' } }] });
    seeded.service = service.runId;
    const gate = await client.submit({ name: 'release', jobs: [{ id: 'promote', kind: 'approval', message: 'Promote build 42 to production?' }, { id: 'ship', script: QUICK, dependsOn: ['promote'] }] });
    await client.putSchedule('nightly-training', { cron: '0 3 * * *' }, { jobs: [{ id: 'nightly', script: QUICK }] });
    await client.set('models/current', JSON.stringify({ name: 'resnet-50', accuracy: 0.93 }));
    await client.publishArtifact('reports/nightly/summary-with-a-long-name.txt', Buffer.from('all green\n'));
    await waitRunStatus(client, pipeline.runId, 'COMPLETED');
    await waitRunStatus(client, failed.runId, 'FAILED');
    await waitRunStatus(client, stage.runId, 'COMPLETED');
    await waitJob(client, `${gate.runId}/promote`, 'WAITING_APPROVAL');
    await eventually(async () => (await client.services()).find((s) => s.runId === service.runId && s.status === 'RUNNING'), 20_000, 'the service to run');
  });

  afterAll(async () => {
    for (const o of opened) await o.context.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    if (client && seeded.service) await client.stopService(`${seeded.service}/web`).catch(() => undefined);
    await cluster.stop();
  });

  /** Strings, not functions: this file is type-checked without the DOM library. */
  const measure = (page: Page): Promise<{ scrollWidth: number; innerWidth: number; iconText: string[]; svgIcons: number; textIcons: number }> =>
    page.evaluate(`(() => {
      const text = document.body.innerText;
      const icons = [...document.querySelectorAll('.icon, .badge-symbol, .nav-icon, .job-node-symbol, .pg-sort-mark')];
      return {
        scrollWidth: document.scrollingElement.scrollWidth,
        innerWidth: window.innerWidth,
        iconText: text.match(${ICON_CHARACTERS.toString()}) ?? [],
        svgIcons: icons.filter((el) => el.tagName.toLowerCase() === 'svg').length,
        textIcons: icons.filter((el) => el.tagName.toLowerCase() !== 'svg').length,
      };
    })()`);

  it('saves every page in four looks; nothing scrolls sideways on the phone and no icon is a character', async () => {
    const { page, errors } = await openTestPage(browser, opened, { prefix: 'screens-' });
    const started = Date.now();
    const report: string[] = [];
    /** The page in its four looks, measured; `page` is ready at 1440×900 in the light theme. */
    const looks = async (name: string, path: string): Promise<void> => {
      for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
        await page.setViewportSize(viewport);
        for (const theme of ['light', 'dark'] as const) {
          await page.emulateMedia({ colorScheme: theme });
          await screenshot(page, `screens-${size}-${theme}-${name}`);
          const m = await measure(page);
          const where = `${name} (${path}) at ${viewport.width} px, ${theme}`;
          expect(m.iconText, `icon characters on ${where}`).toEqual([]);
          expect(m.textIcons, `icons that are not SVGs on ${where}`).toBe(0);
          if (size === 'phone') expect(m.scrollWidth, `the document's width on ${where}`).toBeLessThanOrEqual(m.innerWidth);
          if (size === 'phone' && theme === 'light') report.push(`${name} ${m.scrollWidth}/${m.innerWidth} px, ${m.svgIcons} icons`);
        }
      }
      await page.setViewportSize(DESKTOP);
      await page.emulateMedia({ colorScheme: 'light' });
    };

    await page.setViewportSize(DESKTOP);
    await errors.allowing([SIGNED_OUT_SESSION_CHECK], async () => {
      await page.goto(`${base}/login`);
      await page.getByRole('heading', { name: 'Sign in to Titan' }).waitFor();
      await looks('login', '/login');
    });
    await login(page, base, cluster.token);
    const pages: [name: string, path: string, ready: (p: Page) => Promise<unknown>][] = [
      ['overview', '/', (p) => p.locator('.chart').first().waitFor()],
      ['runs', '/runs', (p) => p.getByRole('link', { name: 'nightly-training-pipeline' }).first().waitFor()],
      ['run', `/runs/${seeded.pipeline}`, (p) => p.locator('.react-flow__node').nth(3).waitFor()],
      ['run-failed-job', `/runs/${seeded.failed}?job=import`, (p) => p.locator('aside.job-panel pre.log', { hasText: 'about to fail' }).waitFor()],
      ['approvals', '/approvals', (p) => p.locator('li.pg-gate').first().waitFor()],
      ['agent-runs', '/agent-runs', (p) => p.getByRole('link', { name: seeded.agent }).waitFor()],
      ['agent-run', `/agent-runs/${seeded.agent}`, (p) => p.getByRole('link', { name: 'agent-plan' }).waitFor()],
      ['services', '/services', (p) => p.getByRole('link', { name: 'model-server' }).first().waitFor()],
      ['schedules', '/schedules', (p) => p.getByText('nightly-training').first().waitFor()],
      ['store', '/store?key=models%2Fcurrent', (p) => p.locator('.pg-detail').getByText('"accuracy": 0.93').waitFor()],
      ['artifacts', '/artifacts', (p) => p.getByText('summary-with-a-long-name.txt').first().waitFor()],
      ['workers', '/workers', (p) => p.locator('tr').filter({ hasText: '127.0.0.1:8100' }).waitFor()],
      ['queue', '/queue', (p) => p.getByText('No key has a cluster limit').waitFor()],
      ['constructor', '/constructor', (p) => p.getByRole('toolbar', { name: 'Constructor' }).waitFor()],
      ['audit', '/audit', (p) => p.locator('tr').filter({ hasText: 'submit' }).first().waitFor()],
    ];
    for (const [name, path, ready] of pages) {
      await page.goto(`${base}${path}`);
      await ready(page);
      await page.locator('main [role="status"].loading').waitFor({ state: 'detached' });
      await looks(name, path);
      errors.expectNone(name);
    }
    console.log(`${pages.length + 1} pages × 4 looks in ${((Date.now() - started) / 1000).toFixed(1)} s; at 390 px (document width/window, SVG icons): ${report.join('; ')}`);
  });

  it("on a phone the navigation is behind a menu button that opens and closes it, and Escape gives focus back", async () => {
    const { page, errors } = await openTestPage(browser, opened, { prefix: 'screens-' });
    await page.setViewportSize(DESKTOP);
    await login(page, base, cluster.token, '/runs');
    await page.setViewportSize(PHONE);
    const menu = page.getByRole('button', { name: 'Menu' });
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await menu.getAttribute('aria-expanded')).toBe('false');
    expect(await nav.isVisible()).toBe(false);
    // The top bar is all the navigation takes on a phone.
    const header = await page.locator('.topbar').boundingBox();
    expect(header?.height).toBeLessThanOrEqual(56);

    await menu.click();
    expect(await menu.getAttribute('aria-expanded')).toBe('true');
    await nav.waitFor();
    expect(await page.evaluate('document.activeElement?.textContent?.trim()')).toBe('Overview');
    await screenshot(page, 'screens-phone-menu-open', { fullPage: false });
    await page.keyboard.press('Escape');
    expect(await menu.getAttribute('aria-expanded')).toBe('false');
    expect(await nav.isVisible()).toBe(false);
    expect(await page.evaluate("document.activeElement?.getAttribute('aria-label')")).toBe('Menu');

    // The button stays above the open drawer and closes it too.
    await menu.click();
    await nav.waitFor();
    await menu.click();
    expect(await menu.getAttribute('aria-expanded')).toBe('false');

    // A link followed closes it and opens the page.
    await menu.click();
    await nav.getByRole('link', { name: 'Workers' }).click();
    await page.getByRole('heading', { name: 'Workers', level: 1 }).waitFor();
    expect(await menu.getAttribute('aria-expanded')).toBe('false');
    expect(await nav.isVisible()).toBe(false);
    // The workers' table is cards: each value beside its column's name.
    const card = page.locator('tbody tr').filter({ hasText: '127.0.0.1:8100' });
    expect(await card.locator('[data-label="Worker"], [data-label="Slots busy"]').count()).toBeGreaterThan(0);
    // On a wide window the sidebar is back and the button gone.
    await page.setViewportSize(DESKTOP);
    await nav.waitFor();
    expect(await menu.isVisible()).toBe(false);
    errors.expectNone('the phone menu');
  });
});
