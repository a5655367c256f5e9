/**
 * The pipeline constructor (/constructor) in a real browser against a real master and worker:
 * nodes added from the toolbar and connected by dragging handle to handle with the mouse, a cycle
 * refused with its reason, undo/redo, fields set in the editor, the generated YAML, a script
 * uploaded through the page, deploy and the run completing; YAML imported and exported again;
 * a draft saved, found again after a refresh, and deleted. The library knows the scripts of past
 * runs, missing scripts are problems as typed (and refuse a deploy), new nodes go beside the
 * selection, import errors stay in the dialog, and a blank canvas only says what to do first.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TitanClient } from '../../src/sdk/client.js';
import { browserAvailable, launchBrowser, login, type OpenPage, openTestPage, screenshot } from '../helpers/browser.js';
import { Cluster } from '../helpers/cluster.js';
import { sh, waitRunStatus } from '../helpers/scripts.js';

const STEP = sh('echo "step $TITAN_JOB_ID done"\n', 'ctor-step.sh');

describe.skipIf(!browserAvailable())('constructor in a browser', () => {
  const cluster = new Cluster();
  let client: TitanClient;
  let browser: Browser;
  let base = '';
  const opened: OpenPage[] = [];

  const signedIn = async (): Promise<OpenPage> => {
    const o = await openTestPage(browser, opened, { prefix: 'ctor-' });
    await login(o.page, base, cluster.token, '/constructor');
    await o.page.getByRole('toolbar', { name: 'Constructor' }).waitFor();
    return o;
  };

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
    await client.putFile('scripts', STEP);
  });

  afterAll(async () => {
    for (const o of opened) await o.context.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await cluster.stop();
  });

  const code = (page: Page): Promise<string> => page.getByTestId('c-code').innerText();
  const statusLine = (page: Page) => page.getByTestId('c-status');
  const edgeCount = (page: Page): Promise<number> => page.locator('.react-flow__edge').count();

  /** Presses the mouse on one handle and releases it on another, moving like a person. */
  async function dragHandle(page: Page, from: string, to: string): Promise<void> {
    const a = await page.getByTestId(`out-${from}`).boundingBox();
    const b = await page.getByTestId(`in-${to}`).boundingBox();
    if (!a || !b) throw new Error(`handles of ${from} → ${to} not visible`);
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move((a.x + b.x) / 2 + 10, (a.y + b.y) / 2, { steps: 8 });
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
    await page.mouse.up();
  }

  /** Adds a node of `kind` from the toolbar and names it; it is selected and its editor open. */
  async function addNamed(page: Page, button: string, id: string, file?: string): Promise<void> {
    await page.getByRole('button', { name: button, exact: true }).click();
    const idField = page.getByLabel('Id', { exact: true });
    await idField.fill(id);
    if (file !== undefined) await page.getByLabel('Script (from the library)').fill(file);
    await page.getByTestId(`node-${id}`).waitFor();
  }

  /** A click on the empty canvas: clears the selection and takes the focus off the fields. */
  async function clickPane(page: Page): Promise<void> {
    const box = await page.locator('.c-canvas').boundingBox();
    if (!box) throw new Error('no canvas');
    await page.mouse.click(box.x + box.width - 30, box.y + 15);
  }

  it('draws a diamond with the mouse, refuses a cycle, undoes and redoes, and deploys it to a completed run', async () => {
    const { page, errors } = await signedIn();

    // A script uploaded through the page's library panel.
    await page.getByTestId('c-upload').setInputFiles({ name: 'ctor-upload.sh', mimeType: 'text/plain', buffer: Buffer.from('echo "uploaded $TITAN_JOB_ID"\n') });
    await page.locator('.c-script-list').getByRole('button', { name: 'ctor-upload.sh' }).waitFor();

    await addNamed(page, '+ Task', 'a', 'ctor-step.sh');
    await addNamed(page, '+ Task', 'b', 'ctor-upload.sh');
    await addNamed(page, '+ Task', 'c', 'ctor-step.sh');
    await addNamed(page, '+ Task', 'd', 'ctor-step.sh');
    await page.getByLabel('Retries').fill('1');
    await page.getByRole('button', { name: 'Auto-layout' }).click();
    await page.waitForTimeout(400);

    for (const [s, t] of [
      ['a', 'b'],
      ['a', 'c'],
      ['b', 'd'],
      ['c', 'd'],
    ] as const) {
      await dragHandle(page, s, t);
      await expect.poll(() => statusLine(page).innerText()).toContain(`${t} now depends on ${s}`);
    }
    await expect.poll(() => edgeCount(page)).toBe(4);

    // A cycle is refused, with the reason in the status line.
    await dragHandle(page, 'd', 'a');
    await expect.poll(() => statusLine(page).innerText()).toMatch(/Refused: .*cycle/);
    await expect.poll(() => edgeCount(page)).toBe(4);

    const yaml = await code(page);
    expect(yaml).toContain('  - id: d\n    file: ctor-step.sh\n    depends_on: [b, c]\n    retries: 1\n');
    expect(yaml).toContain('  - id: b\n    file: ctor-upload.sh\n    depends_on: [a]\n');

    // Undo takes the last edge away, redo brings it back.
    await clickPane(page);
    await page.keyboard.press('Control+z');
    await expect.poll(() => edgeCount(page)).toBe(3);
    expect(await code(page)).toContain('depends_on: [b]\n');
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => edgeCount(page)).toBe(4);
    expect(await code(page)).toContain('depends_on: [b, c]\n');

    // Shift+click adds to the selection, Ctrl+D duplicates it, Delete removes the copies.
    const nodeCount = (): Promise<number> => page.locator('.react-flow__node').count();
    const selectedCount = (): Promise<number> => page.locator('.react-flow__node.selected').count();
    await page.getByTestId('node-b').click();
    await page.getByTestId('node-c').click({ modifiers: ['Shift'] });
    await expect.poll(selectedCount).toBe(2);
    await page.keyboard.press('Control+d');
    await expect.poll(nodeCount).toBe(6);
    expect(await code(page)).toContain('  - id: b-copy\n');
    await page.keyboard.press('Delete');
    await expect.poll(nodeCount).toBe(4);
    expect(await code(page)).toBe(yaml);

    // A rubber band from the empty corner selects the nodes it touches.
    await clickPane(page);
    await expect.poll(selectedCount).toBe(0);
    const canvas = await page.locator('.c-canvas').boundingBox();
    const nb = await page.getByTestId('node-b').boundingBox();
    if (!canvas || !nb) throw new Error('canvas or node not visible');
    await page.mouse.move(canvas.x + 12, canvas.y + 12);
    await page.mouse.down();
    await page.mouse.move(nb.x + nb.width / 2, nb.y + nb.height / 2, { steps: 10 });
    await page.mouse.up();
    await expect.poll(selectedCount).toBe(2);
    await clickPane(page);

    // The help overlay.
    await page.keyboard.press('?');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await page.keyboard.press('Escape');
    await screenshot(page, 'constructor');

    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(/\/runs\/[^/]+$/, { timeout: 15_000 });
    const runId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() as string);
    await waitRunStatus(client, runId, 'COMPLETED');
    await page.locator('.page-header .badge', { hasText: 'Completed' }).waitFor({ timeout: 15_000 });

    // The run opens again on the canvas, ready to change and deploy once more.
    await page.getByRole('link', { name: /Edit in constructor/ }).click();
    await page.waitForURL(/\/constructor$/, { timeout: 15_000 });
    await page.getByText(`Opened run ${runId}`).waitFor({ timeout: 15_000 });
    expect(await page.locator('.react-flow__node').count()).toBe((await client.getRun(runId)).jobs.length);
    errors.expectNone('the constructor');
  });

  it('imports a YAML and exports an equivalent one', async () => {
    const { page, errors } = await signedIn();
    const source = [
      'name: imported',
      'tags: [e2e, "team=data"]',
      'jobs:',
      '  - id: extract',
      '    file: ctor-step.sh',
      '    args: [--day, "2026-11-24", two words]',
      '    env: {MODE: fast}',
      '    concurrency: {key: "tenant-{tags.team}", limit: 4}',
      '    rate_limit: {key: openai, limit: 60, per: minute, burst: 10}',
      '  - id: serve',
      '    file: ctor-step.sh',
      '    type: service',
      '    port: 8123',
      '    depends_on: extract',
      '  - id: gate',
      '    type: approval',
      '    message: "Ship it?"',
      '    depends_on: [serve]',
      '  - id: load',
      '    file: ctor-step.sh',
      '    depends_on: [gate, extract]',
      '    requirement: GPU',
      '    priority: 5',
      '    delay: 2.5',
      '    retries: 0',
      '    timeout: 600',
      '    affinity: required',
      '',
    ].join('\n');
    await page.getByRole('button', { name: 'Import YAML' }).click();
    await page.getByLabel(/Paste a pipeline/).fill(source);
    await page.getByRole('dialog', { name: 'Import YAML' }).getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => statusLine(page).innerText()).toContain('Imported 4 jobs');
    for (const id of ['extract', 'serve', 'gate', 'load']) await page.getByTestId(`node-${id}`).waitFor();
    await expect.poll(() => edgeCount(page)).toBe(4);

    const exported = await code(page);
    const strip = (doc: Awaited<ReturnType<TitanClient['parsePipeline']>>) => ({ ...doc, jobs: doc.jobs.map(({ fileAt: _f, ...j }) => ({ ...j, dependsOn: [...(j.dependsOn ?? [])].sort() })) });
    expect(strip(await client.parsePipeline(exported))).toEqual(strip(await client.parsePipeline(source)));

    // Flow control set in a job's panel is exported, and imported back into the same fields.
    await page.getByTestId('node-load').click();
    await page.getByLabel('Concurrency key').fill('db');
    await page.getByLabel('Concurrency limit').fill('2');
    await page.getByLabel('Rate limit key').fill('db-{job}');
    await page.getByLabel('Rate limit (starts per period)').fill('5');
    await page.getByLabel('Rate period').selectOption('hour');
    await expect.poll(() => code(page)).toContain('    concurrency: {key: db, limit: 2}\n    rate_limit: {key: "db-{job}", limit: 5, per: hour}\n');
    const withFlow = await code(page);
    const load = (await client.parsePipeline(withFlow)).jobs.find((j) => j.id === 'load');
    expect([load?.concurrency, load?.rateLimit]).toEqual([{ key: 'db', limit: 2 }, { key: 'db-{job}', limit: 5, per: 'hour' }]);
    await page.getByLabel('Concurrency limit').fill('0');
    await expect.poll(() => page.getByText('concurrency limit: Too small: expected number to be >=1').count()).toBeGreaterThan(0);
    await page.getByLabel('Concurrency limit').fill('2');
    await page.getByRole('button', { name: 'Import YAML' }).click();
    await page.getByLabel(/Paste a pipeline/).fill(withFlow);
    await page.getByRole('dialog', { name: 'Import YAML' }).getByRole('button', { name: 'Import' }).click();
    await page.getByTestId('node-load').click();
    expect(await page.getByLabel('Concurrency key').inputValue()).toBe('db');
    expect(await page.getByLabel('Rate period').inputValue()).toBe('hour');
    expect(await code(page)).toBe(withFlow);

    // A schedule makes Deploy register the pipeline instead of running it.
    await clickPane(page);
    await page.getByLabel('Name', { exact: true }).fill('ctor-nightly');
    await page.getByLabel('Schedule (cron, UTC)').fill('0 2 * * *');
    await page.getByRole('button', { name: 'Deploy schedule' }).click();
    await expect.poll(() => statusLine(page).innerText()).toContain('Schedule registered');
    expect((await client.schedules()).map((x) => x.name)).toContain('ctor-nightly');
    await client.deleteSchedule('ctor-nightly');
    errors.expectNone('the constructor import');
  });

  it('moves nodes with the arrow keys, clears with undo, uploads a script from the node editor, shows a script, and copies the code', async () => {
    const { page, context, errors } = await signedIn();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await addNamed(page, '+ Task', 'left', 'ctor-step.sh');
    await addNamed(page, '+ Task', 'right', 'ctor-step.sh');
    await dragHandle(page, 'left', 'right');
    await expect.poll(() => page.getByTestId('c-counts').innerText()).toBe('2 nodes · 1 edge');

    // Arrow keys move the focused selection by the grid; the presses in a row are one undo step.
    const x = async (): Promise<number> => (await page.getByTestId('node-right').boundingBox())?.x ?? Number.NaN;
    await page.getByTestId('node-right').click();
    const before = await x();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await expect.poll(x).toBeGreaterThan(before + 20);
    await page.keyboard.press('Control+z');
    await expect.poll(x).toBeCloseTo(before, 0);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(x).toBeGreaterThan(before + 20);

    // Ctrl+A selects every node, Escape none; Clear asks, and Undo brings everything back.
    await page.keyboard.press('Control+a');
    await expect.poll(() => page.locator('.react-flow__node.selected').count()).toBe(2);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('.react-flow__node.selected').count()).toBe(0);
    const yaml = await code(page);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await expect.poll(() => page.getByTestId('c-counts').innerText()).toBe('0 nodes · 0 edges');
    await page.getByRole('button', { name: 'Undo', exact: true }).click();
    await expect.poll(() => page.getByTestId('c-counts').innerText()).toBe('2 nodes · 1 edge');
    expect(await code(page)).toBe(yaml);

    // An upload from the node editor becomes that node's script.
    await page.getByTestId('node-left').click();
    await page.getByTestId('c-node-upload').setInputFiles({ name: 'ctor-node-upload.sh', mimeType: 'text/plain', buffer: Buffer.from('echo "from the editor <b>bold</b>"\n') });
    await expect.poll(() => page.getByLabel('Script (from the library)').inputValue()).toBe('ctor-node-upload.sh');
    expect(await code(page)).toContain('  - id: left\n    file: ctor-node-upload.sh\n');

    // The library lists it and shows its source as text.
    await page.locator('.c-script-list').getByRole('button', { name: 'ctor-node-upload.sh' }).click();
    await expect.poll(() => page.locator('.c-script-view pre').innerText()).toBe('echo "from the editor <b>bold</b>"\n');
    expect(await page.locator('.c-script-view b').count()).toBe(0);

    // Copy puts the visible code on the clipboard, for each language.
    for (const tab of ['YAML', 'Python SDK', 'TypeScript SDK']) {
      await page.getByRole('tab', { name: tab }).click();
      await page.getByRole('button', { name: 'Copy', exact: true }).click();
      await expect.poll(() => statusLine(page).innerText()).toContain('Copied to the clipboard');
      expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(await code(page));
    }
    expect(await code(page)).toContain('ctor-node-upload.sh');
    errors.expectNone('the constructor editing');
  });

  it('saves a draft, checks fields as typed, renames and autosaves it, finds it after a refresh, and deletes it', async () => {
    const { page, errors } = await signedIn();
    await addNamed(page, '+ Task', 'solo', 'ctor-step.sh');
    await expect(page.locator('.c-dirty').count()).resolves.toBe(1);
    await page.getByLabel('Draft', { exact: true }).fill('e2e-draft');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => statusLine(page).innerText()).toContain('Saved draft e2e-draft');
    await expect.poll(() => page.locator('.c-dirty').count()).toBe(0);

    await page.reload();
    await page.getByRole('toolbar', { name: 'Constructor' }).waitFor();
    expect(await page.getByTestId('node-solo').count()).toBe(0);
    await page.getByRole('button', { name: 'e2e-draft', exact: true }).click();
    await page.getByTestId('node-solo').waitFor();
    expect(await code(page)).toContain('  - id: solo\n    file: ctor-step.sh\n');

    // Fields are checked as they are typed.
    await page.getByTestId('node-solo').click();
    await page.getByLabel('Retries').fill('many');
    await page.getByRole('alert').filter({ hasText: 'retries: an integer 0–100' }).waitFor();
    await page.getByLabel('Retries').fill('2');
    expect(await page.getByRole('alert').count()).toBe(0);

    // Renamed, then changed: the change is saved by itself.
    await page.getByLabel('Draft', { exact: true }).fill('e2e-draft-2');
    await page.getByRole('button', { name: 'Rename', exact: true }).click();
    await expect.poll(() => statusLine(page).innerText()).toContain('Renamed to e2e-draft-2');
    await expect.poll(() => statusLine(page).innerText(), { timeout: 8000 }).toContain('Draft e2e-draft-2 saved automatically');
    await page.reload();
    await page.getByRole('toolbar', { name: 'Constructor' }).waitFor();
    await page.getByRole('button', { name: 'e2e-draft-2', exact: true }).click();
    await page.getByTestId('node-solo').waitFor();
    expect(await code(page)).toContain('  - id: solo\n    file: ctor-step.sh\n    retries: 2\n');
    expect(await page.getByRole('button', { name: 'e2e-draft', exact: true }).count()).toBe(0);

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete draft e2e-draft-2' }).click();
    await expect.poll(() => statusLine(page).innerText()).toContain('Deleted draft e2e-draft-2');
    await expect.poll(() => page.getByRole('button', { name: 'e2e-draft-2', exact: true }).count()).toBe(0);
    await page.reload();
    await page.getByRole('toolbar', { name: 'Constructor' }).waitFor();
    await page.waitForTimeout(300);
    expect(await page.getByRole('button', { name: /^e2e-draft/ }).count()).toBe(0);
    errors.expectNone('the constructor drafts');
  });

  it('starts clean, knows the scripts of past runs, places new nodes beside the selection, and refuses a run whose scripts are gone', async () => {
    // Runs submitted as the CLI does: their scripts are never put in the library.
    const ran = async (name: string, file: string, content: string): Promise<string> => {
      const { runId } = await client.submit({ name, jobs: [{ id: 'only', script: sh(content, file) }] });
      await waitRunStatus(client, runId, 'COMPLETED');
      return runId;
    };
    const older = 'echo "cli v1"\n';
    await ran('cli-old', 'cli-only.sh', older);
    const kept = await ran('cli-new', 'cli-only.sh', 'echo "cli v2"\n');
    const gone = await ran('cli-gone', 'cli-gone.sh', 'echo gone\n');
    const goneHash = createHash('sha256').update('echo gone\n').digest('hex');
    rmSync(join(cluster.dir, 'data', 'blobs', goneHash.slice(0, 2), goneHash));

    const { page, errors } = await signedIn();
    const problems = page.locator('.c-side');

    // 5. A blank canvas: no error anywhere, only what to do first.
    await page.getByTestId('c-first-hint').filter({ hasText: /add one with \+ Task/ }).waitFor();
    expect(await problems.locator('.c-field-error').count()).toBe(0);
    expect(await problems.getByText('None.').count()).toBe(1);
    await page.getByRole('button', { name: 'Validate', exact: true }).click();
    await expect.poll(() => statusLine(page).innerText()).toContain('add a job with + Task first');
    expect(await statusLine(page).getAttribute('class')).not.toContain('c-status-error');

    // 1. The library lists the runs' scripts (newest version current, the older one too), the library's and the uploads'.
    const entry = (name: string) => page.locator('.c-script-list li', { hasText: name });
    await entry('cli-only.sh').first().waitFor();
    expect(await entry('cli-only.sh').count()).toBe(2);
    expect(await entry('cli-only.sh').first().innerText()).toContain(kept);
    expect(await entry('cli-only.sh').nth(1).getByRole('button', { name: 'Use this version' }).count()).toBe(1);
    expect(await entry('cli-gone.sh').innerText()).toContain('content gone from the blob store');
    expect(await entry('ctor-step.sh').first().innerText()).toContain('library');
    await entry('cli-only.sh').first().getByRole('button', { name: 'cli-only.sh' }).click();
    await expect.poll(() => page.locator('.c-script-view pre').innerText()).toBe('echo "cli v2"\n');

    // Use, with nothing selected: a new task running it.
    await entry('cli-only.sh').first().getByRole('button', { name: 'Use', exact: true }).click();
    await page.getByTestId('node-task').waitFor();
    await expect.poll(() => code(page)).toContain('  - id: task\n    file: cli-only.sh\n');
    expect(await problems.locator('.c-field-error').count()).toBe(0);

    // 3. A new node goes beside the selected one; with nothing selected, to a free spot near the centre; never on another.
    const box = async (id: string) => {
      const b = await page.getByTestId(`node-${id}`).boundingBox();
      if (!b) throw new Error(`node ${id} not visible`);
      return b;
    };
    await page.getByRole('button', { name: '+ Task', exact: true }).click();
    await page.getByTestId('node-task-2').waitFor();
    const [first, beside] = [await box('task'), await box('task-2')];
    expect(beside.x).toBeGreaterThanOrEqual(first.x + first.width);
    expect(Math.abs(beside.y - first.y)).toBeLessThan(2);
    await page.getByTestId('node-task').click();
    await page.getByRole('button', { name: '+ Task', exact: true }).click();
    await clickPane(page);
    await page.getByRole('button', { name: '+ Service', exact: true }).click();
    await clickPane(page);
    await page.getByRole('button', { name: '+ Approval', exact: true }).click();
    const ids = ['task', 'task-2', 'task-3', 'service', 'approval'];
    const boxes = await Promise.all(ids.map(box));
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        if (!a || !b) continue;
        const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
        expect(apart, `${ids[i]} and ${ids[j]} overlap`).toBe(true);
      }
    console.log(`new nodes at ${boxes.map((b, i) => `${ids[i]} (${Math.round(b.x)}, ${Math.round(b.y)})`).join(', ')}`);

    // 2. A script the cluster lacks is a problem as it is typed.
    await page.getByTestId('node-task-2').click();
    await page.getByLabel('Script (from the library)').fill('nowhere.sh');
    await page.getByRole('alert').filter({ hasText: 'the cluster has no script nowhere.sh' }).waitFor();
    await page.getByLabel('Script (from the library)').fill('cli-only.sh');
    await expect.poll(() => page.getByRole('alert').count()).toBe(0);

    // An older version is put in the library when used, so that the node deploys it.
    page.once('dialog', (d) => void d.accept());
    await entry('cli-only.sh').nth(1).getByRole('button', { name: 'Use this version' }).click();
    await expect.poll(async () => (await client.getFile('scripts', 'cli-only.sh')).toString()).toBe(older);
    await expect.poll(() => entry('cli-only.sh').first().innerText()).toContain('library');

    // 4. An import the master refuses says why inside the dialog, beside the text.
    const dialog = page.getByRole('dialog', { name: 'Import YAML' });
    await errors.allowing([{ text: /status of 400/, url: /\/api\/pipelines\/parse$/ }], async () => {
      await page.getByRole('button', { name: 'Import YAML' }).click();
      await page.getByLabel(/Paste a pipeline/).fill('name: p\njobs:\n  - id: a\n    fiel: a.sh\n');
      await dialog.getByRole('button', { name: 'Import' }).click();
      await dialog.getByRole('alert').filter({ hasText: /Not imported: .*pipeline\.yaml:\d+:\d+/ }).waitFor();
    });
    const [field, alert] = [await page.getByLabel(/Paste a pipeline/).boundingBox(), await dialog.getByRole('alert').boundingBox()];
    if (!field || !alert) throw new Error('the import field or its error is not visible');
    expect(alert.y).toBeGreaterThanOrEqual(field.y + field.height - 1);
    expect(await statusLine(page).innerText()).not.toContain('Import');
    await screenshot(page, 'constructor-import-error');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => dialog.count()).toBe(0);

    // 2. A run whose script is gone from the blob store says so, and its deploy is refused with the reason.
    await page.goto(`${base}/constructor?run=${encodeURIComponent(gone)}`);
    await page.getByText(`Opened run ${gone}`).waitFor({ timeout: 15_000 });
    await problems.getByText(/the cluster has no script cli-gone\.sh/).waitFor();
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await expect.poll(() => statusLine(page).innerText()).toMatch(/1 problem: only: the cluster has no script cli-gone\.sh/);
    expect(new URL(page.url()).pathname).toBe('/constructor');

    // A run whose scripts are in the blob store (or the library) has no problem, and deploys.
    await page.goto(`${base}/constructor?run=${encodeURIComponent(kept)}`);
    await page.getByText(`Opened run ${kept}`).waitFor({ timeout: 15_000 });
    expect(await problems.getByText('None.').count()).toBe(1);
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(/\/runs\/[^/]+$/, { timeout: 15_000 });
    const runId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() as string);
    await waitRunStatus(client, runId, 'COMPLETED');
    errors.expectNone('the constructor with known scripts');
  });
});
