/**
 * The run graph at scale, in real Chromium against a real master: a 10,000-job run (a root, two
 * fan-outs of 4,999 jobs, a join) opens readable and quickly as four nodes, pans and zooms
 * smoothly, and its search opens a collapsed group and centres the job; a live 1,000-job run on a
 * worker stays smooth while its statuses change, without one layout per change. The figures
 * (time to a drawn graph, frame times at the 95th percentile) are printed and asserted loosely.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TitanClient } from '../../src/sdk/client.js';
import { browserAvailable, launchBrowser, login, type OpenPage, openTestPage, screenshot } from '../helpers/browser.js';
import { Cluster } from '../helpers/cluster.js';
import { sh } from '../helpers/scripts.js';

const NOOP = sh('true\n', 'noop.sh');
/** Targets from the issue; the assertions allow three times as much on a busy 2-core machine. */
const OPEN_TARGET_MS = 2_000;
const FRAME_P95_TARGET_MS = 50;
const SLACK = 3;

interface GraphStats {
  layouts: number;
  lastLayoutMs: number;
  lastLayoutBoxes: number;
  lastGroupingMs: number;
}

describe.skipIf(!browserAvailable())('the run graph at scale', () => {
  const cluster = new Cluster();
  let client: TitanClient;
  let browser: Browser;
  let base = '';
  const opened: OpenPage[] = [];

  const signedIn = async (next: string): Promise<OpenPage> => {
    const o = await openTestPage(browser, opened, { prefix: 'big-graph-' });
    await login(o.page, base, cluster.token, next);
    return o;
  };

  beforeAll(async () => {
    const [b] = await Promise.all([launchBrowser(), cluster.startMaster()]);
    browser = b;
    base = `http://127.0.0.1:${cluster.httpPort}`;
    client = cluster.client();
  });

  afterAll(async () => {
    for (const o of opened) await o.context.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await cluster.stop();
  });

  it('opens a 10,000-job run readable in seconds, pans and zooms smoothly, and finds a job inside a collapsed group', async () => {
    // No worker offers BIG: the run stays as submitted (one request, one commit).
    const fan = 4_999;
    const job = (id: string, dependsOn: string[]) => ({ id, script: NOOP, requirement: 'BIG', dependsOn });
    const jobs = [job('root', [])];
    for (let i = 0; i < fan; i++) jobs.push(job(`shard-${i}`, ['root']));
    for (let i = 0; i < fan; i++) jobs.push(job(`check-${i}`, [`shard-${i}`]));
    jobs.push(job('join', Array.from({ length: fan }, (_, i) => `check-${i}`)));
    expect(jobs.length).toBe(10_000);
    const { runId } = await client.submit({ name: 'e2e-10k', jobs });

    const { page, errors } = await signedIn('/runs');
    const started = Date.now();
    await page.goto(`${base}/runs/${runId}`);
    const shards = page.locator('.react-flow__node[data-id="group:shard-0"]');
    await shards.locator('.group-node-counts', { hasText: '4,999 pending' }).waitFor({ timeout: 20_000 });
    await page.locator('.react-flow__node[data-id="join"]').waitFor();
    const openMs = Date.now() - started;
    const stats = await graphStats(page);
    const fetched = (await page.evaluate(`(() => { const e = performance.getEntriesByType('resource').find((r) => r.name.endsWith('/api/runs/${runId}')); return e ? [Math.round(e.startTime), Math.round(e.duration)] : [-1, -1]; })()`)) as [number, number];
    console.log(`10,000 jobs: graph drawn ${openMs} ms after navigation (the run's jobs asked for at ${fetched[0]} ms, fetched in ${fetched[1]} ms, grouped in ${stats.lastGroupingMs} ms); ${stats.layouts} layout of ${stats.lastLayoutBoxes} boxes in ${stats.lastLayoutMs} ms off the main thread`);
    expect(openMs).toBeLessThan(OPEN_TARGET_MS * SLACK);
    expect(stats.lastLayoutBoxes).toBe(4);
    expect(await page.locator('.react-flow__node').count()).toBe(4);

    // Readable: a zoom at which ids can be read, every node in view.
    expect(await zoomOf(page)).toBeGreaterThanOrEqual(0.5);
    const pane = await box(page, '.run-graph');
    for (const id of ['root', 'group:shard-0', 'group:check-0', 'join']) {
      const b = await box(page, `.react-flow__node[data-id="${id}"]`);
      expect(b.x >= pane.x && b.y >= pane.y && b.x + b.width <= pane.x + pane.width && b.y + b.height <= pane.y + pane.height, `${id} in view`).toBe(true);
    }
    expect(await shards.locator('.group-node-name').textContent()).toBe('shard-*');
    await screenshot(page, 'big-graph-10k', { fullPage: false });

    const allowed = await allowedFrameP95(page);
    const frames = await measureFrames(page, () => panAndZoom(page, pane));
    console.log(`10,000 jobs: pan and zoom over ${frames.count} frames: p50 ${frames.p50.toFixed(1)} ms, p95 ${frames.p95.toFixed(1)} ms (allowed ${allowed.toFixed(0)}), max ${frames.max.toFixed(1)} ms; ${frames.longTasks} on the main thread`);
    expect(frames.count).toBeGreaterThan(10);
    expect(frames.p95).toBeLessThan(allowed);

    // Search: the job is inside the collapsed check-* group; the group opens at its page and the job is centred.
    await page.getByLabel('Job id to find').fill('check-4321');
    await page.getByRole('button', { name: 'Find', exact: true }).click();
    const target = page.locator('.react-flow__node[data-id="check-4321"]');
    await target.waitFor();
    await expect.poll(async () => distanceFromCentre(await box(page, '.react-flow__node[data-id="check-4321"]'), await box(page, '.run-graph'))).toBeLessThan(40);
    expect(await target.locator('.job-node').getAttribute('class')).toContain('is-found');
    const frame = page.locator('.react-flow__node[data-id="group:check-0"]');
    expect(await frame.locator('.group-frame-pages').textContent()).toContain('4,321–4,440 of 4,999');
    expect(await page.locator('.react-flow__node').count()).toBe(4 + 120);
    await screenshot(page, 'big-graph-10k-found', { fullPage: false });

    // A member opens the job panel, as any job does.
    await target.click();
    await page.locator('aside.job-panel').getByRole('heading', { name: /check-4321/ }).waitFor();
    expect(new URL(page.url()).searchParams.get('job')).toBe('check-4321');

    // The expanded group collapses back; a click on a collapsed group expands it.
    await page.getByRole('button', { name: 'Collapse group check-*' }).click();
    await frame.locator('.group-node').waitFor();
    await shards.click();
    await shards.locator('.group-frame').waitFor();
    await page.locator('.react-flow__node[data-id="shard-0"]').waitFor();
    expect(await shards.locator('.group-frame-pages').textContent()).toContain('1–120 of 4,999');
    await page.getByRole('button', { name: 'Next jobs of the group' }).click();
    await page.locator('.react-flow__node[data-id="shard-120"]').waitFor();
    expect(await page.locator('.react-flow__node[data-id="shard-0"]').count()).toBe(0);
    errors.expectNone('the 10,000-job run');
  });

  it('keeps a live 1,000-job run smooth while its statuses change, with no layout per change', async () => {
    const jobs = [{ id: 'start', script: NOOP, dependsOn: [] as string[] }];
    for (let i = 0; i < 998; i++) jobs.push({ id: `task-${i}`, script: NOOP, dependsOn: ['start'] });
    jobs.push({ id: 'finish', script: NOOP, dependsOn: jobs.slice(1).map((j) => j.id) });
    const { runId } = await client.submit({ name: 'e2e-live-1k', jobs });

    const { page, errors } = await signedIn(`/runs/${runId}`);
    const tasks = page.locator('.react-flow__node[data-id="group:task-0"]');
    await tasks.locator('.group-node-counts', { hasText: '998 pending' }).waitFor({ timeout: 20_000 });
    const counts = tasks.locator('.group-node-counts');
    const before = await graphStats(page);
    const pane = await box(page, '.run-graph');
    const allowed = await allowedFrameP95(page);

    // A worker that completes each job at once: statuses change as fast as the master dispatches.
    const worker = cluster.startWorker({ executor: 'noop', slots: 8 });
    await counts.filter({ hasText: /running|completed/ }).waitFor({ timeout: 20_000 });
    const frames = await measureFrames(page, async () => {
      for (let round = 0; round < 2; round++) await panAndZoom(page, pane);
    });
    const countsAfter = await counts.textContent();
    await worker;
    await counts.filter({ hasText: /^998 completed$/ }).waitFor({ timeout: 30_000 });
    await page.locator('.react-flow__node[data-id="finish"] .job-node-status', { hasText: /^Completed$/ }).waitFor({ timeout: 30_000 });
    const after = await graphStats(page);
    console.log(`live 1,000 jobs: ${frames.count} frames during ${frames.redraws} status redraws (ending at "${countsAfter}"): p50 ${frames.p50.toFixed(1)} ms, p95 ${frames.p95.toFixed(1)} ms (allowed ${allowed.toFixed(0)}), max ${frames.max.toFixed(1)} ms; ${frames.longTasks} on the main thread; layouts ${before.layouts} before, ${after.layouts} after`);
    expect(frames.p95).toBeLessThan(allowed);
    expect(frames.redraws, 'statuses changed while the graph was moved').toBeGreaterThan(0);
    // Every job changed status at least twice; the graph was laid out again not once.
    expect(after.layouts).toBe(before.layouts);
    // Opened, the group shows its jobs as they are now.
    await tasks.click();
    await page.locator('.react-flow__node[data-id="task-119"] .job-node-status', { hasText: /^Completed$/ }).waitFor();
    await screenshot(page, 'big-graph-live-1k', { fullPage: false });
    errors.expectNone('the live 1,000-job run');
  });
});

async function graphStats(page: Page): Promise<GraphStats> {
  return (await page.evaluate('window.__titanGraph')) as GraphStats;
}

async function box(page: Page, selector: string): Promise<{ x: number; y: number; width: number; height: number }> {
  const b = await page.locator(selector).boundingBox();
  if (!b) throw new Error(`${selector} is not visible`);
  return b;
}

function distanceFromCentre(b: { x: number; y: number; width: number; height: number }, pane: { x: number; y: number; width: number; height: number }): number {
  return Math.hypot(b.x + b.width / 2 - (pane.x + pane.width / 2), b.y + b.height / 2 - (pane.y + pane.height / 2));
}

/** The graph's zoom, from the transform React Flow puts on its viewport. */
async function zoomOf(page: Page): Promise<number> {
  const transform = (await page.locator('.react-flow__viewport').getAttribute('style')) ?? '';
  return Number(/scale\(([\d.]+)\)/.exec(transform)?.[1] ?? NaN);
}

/**
 * The bound for a frame-time p95: three times the target, or three times what the idle page itself
 * gets (a second of frames with nothing to do) when the machine is too busy for even that.
 */
async function allowedFrameP95(page: Page): Promise<number> {
  const idle = await measureFrames(page, () => page.waitForTimeout(1_000));
  if (idle.p95 * SLACK > FRAME_P95_TARGET_MS * SLACK) console.log(`a busy machine: the idle page's frame p95 is ${idle.p95.toFixed(1)} ms`);
  return Math.max(FRAME_P95_TARGET_MS, idle.p95) * SLACK;
}

/** Scripted wheel zooms and drags over the pane. */
async function panAndZoom(page: Page, pane: { x: number; y: number; width: number; height: number }): Promise<void> {
  const cx = pane.x + pane.width / 2;
  const cy = pane.y + pane.height / 2;
  await page.mouse.move(cx, cy);
  for (const dy of [-200, -200, 200, 200]) await page.mouse.wheel(0, dy);
  // Drag on empty pane (below the nodes' band is not guaranteed; React Flow pans from a node too, nodes are not draggable).
  await page.mouse.move(cx - 150, cy + 60);
  await page.mouse.down();
  await page.mouse.move(cx + 150, cy - 60, { steps: 8 });
  await page.mouse.move(cx - 150, cy + 60, { steps: 8 });
  await page.mouse.up();
}

/**
 * Frame times (requestAnimationFrame deltas) in the page while `during` runs, and how many times the
 * nodes' content changed meanwhile (pan and zoom move the viewport only: these are status redraws).
 */
async function measureFrames(page: Page, during: () => Promise<void>): Promise<{ count: number; p50: number; p95: number; max: number; redraws: number; longTasks: string }> {
  // Strings, not functions: this file is type-checked without the DOM library.
  await page.evaluate(`(() => {
    const frames = [];
    let last = performance.now();
    const state = { list: frames, on: true, redraws: 0, longTasks: 0, longTaskMs: 0 };
    window.__frames = state;
    state.tasks = new PerformanceObserver((l) => { for (const e of l.getEntries()) { state.longTasks++; state.longTaskMs += e.duration; } });
    state.tasks.observe({ type: 'longtask' });
    const nodes = document.querySelector('.react-flow__nodes');
    state.observer = new MutationObserver(() => { state.redraws++; });
    if (nodes) state.observer.observe(nodes, { subtree: true, childList: true, characterData: true });
    const tick = (t) => { frames.push(t - last); last = t; if (state.on) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  })()`);
  await during();
  const result = (await page.evaluate('(() => { const s = window.__frames; s.on = false; s.observer.disconnect(); s.tasks.disconnect(); return { list: s.list, redraws: s.redraws, longTasks: s.longTasks, longTaskMs: Math.round(s.longTaskMs) }; })()')) as { list: number[]; redraws: number; longTasks: number; longTaskMs: number };
  const list = result.list.slice(1).sort((a, b) => a - b);
  const at = (q: number): number => list[Math.min(list.length - 1, Math.floor(q * list.length))] ?? NaN;
  return { count: list.length, p50: at(0.5), p95: at(0.95), max: list[list.length - 1] ?? NaN, redraws: result.redraws, longTasks: `${result.longTasks} long tasks (${result.longTaskMs} ms)` };
}
