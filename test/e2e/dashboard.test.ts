/**
 * The dashboard in a real browser (headless Chromium driven by playwright-core) against a real
 * master and worker serving the built app (`dist/web`): signing in through the form, every page
 * with data in it and no console errors, CSP violations or uncaught exceptions, a DAG whose nodes
 * change status live, a job's output arriving while it runs, approving a gate from the inbox,
 * hostile names and messages rendered as text, the theme switch, and keyboard access to the
 * navigation. Screenshots of every page (light and dark) land in `test-artifacts/screenshots/`.
 */
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobToken } from '../../src/protocol/derived-tokens.js';
import { TitanClient } from '../../src/sdk/client.js';
import { browserAvailable, launchBrowser, login, type OpenPage, openTestPage, screenshot, SIGNED_OUT_SESSION_CHECK } from '../helpers/browser.js';
import { Cluster, eventually } from '../helpers/cluster.js';
import { py, refusal, sh, waitJob, waitRunStatus } from '../helpers/scripts.js';

const QUICK = sh('echo "step $TITAN_JOB_ID done"\n', 'quick.sh');
/** Sleeps for argv[1] seconds between two lines of output. */
const SLEEPY = sh('echo "start $TITAN_JOB_ID"\nsleep "$1"\necho "end $TITAN_JOB_ID"\n', 'sleepy.sh');
/** Runs until the test sets the data bus key named by its argument: how long a job runs is the test's to say, however loaded the machine. */
const HELD = py('import sys\nfrom titan_sdk import TitanClient\nTitanClient().wait_for_value(sys.argv[1], timeout=120)\n', 'held.py');
const TALKER = sh('echo "first line from the talker"\nsleep 0.3\necho "a warning from the talker" >&2\nsleep 3\necho "second line from the talker"\n', 'talker.sh');
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

const XSS_NAME = '<script>window.__xss=1</script>';
const XSS_MESSAGE = '<img src=x onerror=window.__xss=1>';
const TOUR_GATE_MESSAGE = 'Promote the nightly build to staging?';
const LIVE = 30_000;

describe.skipIf(!browserAvailable())('dashboard in a browser', () => {
  const cluster = new Cluster();
  let client: TitanClient;
  let browser: Browser;
  let base = '';
  const opened: OpenPage[] = [];
  /** Runs the page tour expects. */
  const seeded = { pipeline: '', service: '', gate: '', agent: 'e2e-agent-7' };

  /** A fresh context and page for one test, closed in afterAll if the test does not. */
  const fresh = (colorScheme: 'light' | 'dark' = 'light'): Promise<OpenPage> => openTestPage(browser, opened, { colorScheme });
  const signedIn = async (colorScheme: 'light' | 'dark' = 'light', next = '/'): Promise<OpenPage> => {
    const o = await fresh(colorScheme);
    await login(o.page, base, cluster.token, next);
    return o;
  };

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

    // Something on every page: a finished DAG, two stages of an agent run, a service, a waiting
    // gate, a schedule, store keys and an artifact.
    const pipeline = await client.submit({
      name: 'e2e-pipeline',
      tags: ['e2e', 'env=test'],
      jobs: [
        { id: 'prepare', script: QUICK },
        { id: 'left', script: QUICK, dependsOn: ['prepare'] },
        { id: 'right', script: QUICK, dependsOn: ['prepare'] },
        { id: 'report', script: QUICK, dependsOn: ['left', 'right'] },
      ],
    });
    seeded.pipeline = pipeline.runId;
    // The planning stage's job adds two searches with its own token while it runs (a round of its own).
    const stage1 = await client.submit({ name: 'agent-stage-plan', agentRunId: seeded.agent, jobs: [{ id: 'plan', script: SLEEPY, args: ['2'] }] });
    await waitJob(client, `${stage1.runId}/plan`, 'RUNNING');
    const planner = new TitanClient({ host: '127.0.0.1', port: cluster.port, token: jobToken(cluster.token, { runId: stage1.runId, jobId: 'plan', attempt: 1 }) });
    await planner.extendRun([{ id: 'search-1', script: QUICK }, { id: 'search-2', script: QUICK }], stage1.runId).finally(() => planner.close());
    const service = await client.submit({ name: 'e2e-service', jobs: [{ id: 'web', kind: 'service', script: SERVICE, service: { readiness: 'none' } }] });
    seeded.service = service.runId;
    const gate = await client.submit({
      name: 'e2e-release',
      jobs: [
        { id: 'promote', kind: 'approval', message: TOUR_GATE_MESSAGE },
        { id: 'ship', script: QUICK, dependsOn: ['promote'] },
      ],
    });
    seeded.gate = gate.runId;
    await client.putSchedule('e2e-nightly', { cron: '0 3 * * *' }, { jobs: [{ id: 'nightly', script: QUICK }] });
    await client.set('e2e/greeting', 'hello from the e2e test');
    await client.set('e2e/config', JSON.stringify({ retries: 3, region: 'eu' }));
    await client.publishArtifact('e2e/reports/summary.txt', Buffer.from('all green\n'));
    await waitRunStatus(client, pipeline.runId, 'COMPLETED');
    await waitRunStatus(client, stage1.runId, 'COMPLETED');
    const stage2 = await client.submit({ name: 'agent-stage-apply', agentRunId: seeded.agent, jobs: [{ id: 'apply', script: QUICK }] });
    await waitRunStatus(client, stage2.runId, 'COMPLETED');
    await waitJob(client, `${gate.runId}/promote`, 'WAITING_APPROVAL');
    await eventually(async () => (await client.services()).find((s) => s.runId === service.runId && s.status === 'RUNNING'), 20_000, 'the service to run');
  });

  afterAll(async () => {
    for (const o of opened) await o.context.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    if (client && seeded.service) await client.stopService(`${seeded.service}/web`).catch(() => undefined);
    await cluster.stop();
  });

  it('signs in with the token through the form; a wrong token shows an error; the page asked for comes after', async () => {
    const { page, errors } = await fresh();
    errors.allow(SIGNED_OUT_SESSION_CHECK, { text: /status of 401/, url: /\/api\/login$/ });
    // A page of the app while signed out: the login form, remembering where to go.
    await page.goto(`${base}/workers`);
    await page.waitForURL(/\/login\?next=%2Fworkers$/);
    await expect(page.getByRole('heading', { name: 'Sign in to Titan' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'login');

    await page.getByLabel('Token', { exact: true }).fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    // The master's words or the form's: it names the token.
    expect(await alert.textContent()).toMatch(/token/i);
    expect(new URL(page.url()).pathname).toBe('/login');
    await screenshot(page, 'login-wrong-token');

    await page.getByLabel('Token', { exact: true }).fill(cluster.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Workers', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/workers');
    expect(await page.locator('.topbar .user').textContent()).toContain('token');
    // The session survives a reload (the cookie), and signing out ends it.
    await page.reload();
    await page.getByRole('heading', { name: 'Workers', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Titan' }).waitFor();
    const session = await page.evaluate("fetch('/api/session').then((r) => r.status)");
    expect(session).toBe(401);
    errors.expectNone('the login page');
  });

  /** Every page, with what it should show; the same tour in light and dark. */
  const tour = async (page: Page, suffix: string, check: (where: string) => void): Promise<void> => {
    const live = page.locator('.topbar .live-live');
    const visit = async (path: string, name: string, ready: (p: Page) => Promise<void>): Promise<void> => {
      await page.goto(`${base}${path}`);
      await ready(page);
      await live.waitFor({ timeout: LIVE });
      await page.locator('main [role="status"].loading').waitFor({ state: 'detached' });
      await screenshot(page, `${name}${suffix}`);
      check(`${name}${suffix} (${path})`);
    };

    await visit('/', 'overview', async (p) => {
      const card = p.locator('.worker-card').filter({ hasText: '127.0.0.1:8100' });
      await card.waitFor();
      expect(await card.locator('.card-title').textContent()).toBe('127.0.0.1:8100');
      // Load: the slots meter (the service holds one of 8 slots).
      expect(await card.getByRole('meter').getAttribute('aria-valuemax')).toBe('8');
      expect(await card.locator('.meter-text').textContent()).toMatch(/^[1-8]\/8$/);
      expect(await p.locator('.tile').filter({ hasText: 'Workers' }).locator('.tile-value').textContent()).toBe('1/1');
    });
    await visit('/runs', 'runs', async (p) => {
      await p.getByRole('link', { name: 'e2e-pipeline', exact: true }).waitFor();
      const row = p.locator('tr').filter({ has: p.getByRole('link', { name: 'e2e-pipeline', exact: true }) });
      expect(await row.locator('.badge').textContent()).toContain('Completed');
      expect(await row.locator('.counts-text').textContent()).toMatch(/^4\/4/);
      await p.getByRole('link', { name: 'e2e-release', exact: true }).waitFor();
    });
    await visit(`/runs/${seeded.pipeline}`, 'run', async (p) => {
      await p.getByRole('heading', { name: /e2e-pipeline/, level: 1 }).waitFor();
      for (const id of ['prepare', 'left', 'right', 'report']) await node(p, id).locator('.job-node-status', { hasText: /^Completed$/ }).waitFor();
      expect(await p.locator('.react-flow__edge').count()).toBe(4);
    });
    await visit(`/runs/${seeded.pipeline}?job=report`, 'run-job-panel', async (p) => {
      const panel = p.locator('aside.job-panel');
      await panel.getByRole('heading', { name: /report/ }).waitFor();
      await panel.locator('pre.log', { hasText: 'step report done' }).waitFor();
    });
    await visit('/approvals', 'approvals', async (p) => {
      const card = p.locator('li.pg-gate').filter({ hasText: TOUR_GATE_MESSAGE });
      await card.waitFor();
      await card.getByRole('link', { name: 'e2e-release' }).waitFor();
      await card.getByRole('button', { name: /Approve/ }).waitFor();
    });
    await visit('/agent-runs', 'agent-runs', async (p) => {
      const row = p.locator('tr').filter({ has: p.getByRole('link', { name: seeded.agent }) });
      await row.waitFor();
      expect(await row.locator('td').first().textContent()).toBe('2');
    });
    await visit(`/agent-runs/${seeded.agent}`, 'agent-run', async (p) => {
      const stages = p.getByRole('list', { name: `Stages of agent run ${seeded.agent}` });
      await stages.waitFor();
      await stages.getByRole('link', { name: 'agent-stage-plan' }).waitFor();
      await stages.getByRole('link', { name: 'agent-stage-apply' }).waitFor();
      expect(await stages.locator('> li').count()).toBe(2);
      // Opened, the planning stage shows the round its job added, naming that job.
      await stages.locator('> li').first().getByText('Rounds and outputs').click();
      const rounds = p.getByRole('list', { name: /^Rounds of / });
      await rounds.getByText('Round 2').waitFor();
      expect(await rounds.locator('> li').count()).toBe(2);
      const added = rounds.locator('> li').nth(1);
      expect(await added.textContent()).toMatch(/added by plan .*2 jobs/);
      await added.getByRole('link', { name: 'search-2' }).waitFor();
      await stages.getByText('No outputs: its jobs published no artifact.').first().waitFor();
    });
    await visit('/services', 'services', async (p) => {
      const row = p.locator('tr').filter({ has: p.getByRole('link', { name: 'e2e-service' }) });
      await row.waitFor();
      expect(await row.locator('th code').textContent()).toBe('web');
      expect(await row.locator('.badge').textContent()).toContain('Running');
      expect(await row.textContent()).toContain('127.0.0.1:8100');
    });
    await visit('/schedules', 'schedules', async (p) => {
      const row = p.locator('tr').filter({ hasText: 'e2e-nightly' });
      await row.waitFor();
      expect(await row.locator('td code').first().textContent()).toBe('0 3 * * *');
      expect(await row.locator('.badge').textContent()).toContain('Active');
    });
    await visit('/store?key=e2e%2Fconfig', 'store', async (p) => {
      const keys = p.getByRole('region', { name: 'Keys' });
      await keys.getByRole('button', { name: 'e2e/greeting' }).waitFor();
      await keys.getByRole('button', { name: 'e2e/config' }).waitFor();
      // The open key's value, formatted as JSON.
      await p.locator('.pg-detail').getByText('"region": "eu"').waitFor();
    });
    await visit('/artifacts', 'artifacts', async (p) => {
      await p.getByRole('link', { name: 'Download e2e/reports/summary.txt' }).waitFor();
      await p.getByText('summary.txt', { exact: true }).waitFor();
    });
    await visit('/workers', 'workers', async (p) => {
      const row = p.locator('tr').filter({ hasText: '127.0.0.1:8100' });
      await row.waitFor();
      expect(await row.locator('.badge').textContent()).toContain('Connected');
      expect(await row.locator('.meter-text').textContent()).toMatch(/^[1-8]\/8$/);
      expect(await row.locator('.chip').textContent()).toBe('GENERAL');
    });
    await visit('/queue', 'queue', async (p) => {
      // No job here names a key: the page says how one does (test/e2e/queue.test.ts fills it).
      await p.getByRole('heading', { name: 'Queue', level: 1 }).waitFor();
      await p.getByText('No key has a cluster limit').waitFor();
    });
    await visit('/audit', 'audit', async (p) => {
      // The seeding submitted runs with the cluster token over TCP.
      const row = p.locator('tr').filter({ hasText: 'cluster-token' }).filter({ hasText: 'submit' }).first();
      await row.waitFor();
      expect(await row.textContent()).toMatch(/tcp from \S*127\.0\.0\.1/);
    });
  };

  it('every page loads with its data and no console errors (light theme)', async () => {
    const { page, errors } = await signedIn('light');
    await tour(page, '', (where) => errors.expectNone(where));
  });

  it('every page loads with its data and no console errors (dark theme)', async () => {
    const { page, errors } = await signedIn('dark');
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    await tour(page, '-dark', (where) => errors.expectNone(where));
  });

  it('a submitted DAG appears and its nodes change from running to completed live', async () => {
    const { page, errors } = await signedIn();
    const release = `e2e-diamond-${Date.now()}`;
    const { runId } = await client.submit({
      name: 'e2e-diamond',
      jobs: [
        { id: 'a', script: SLEEPY, args: ['1.5'] },
        { id: 'b', script: HELD, args: [`${release}/b`], dependsOn: ['a'] },
        { id: 'c', script: SLEEPY, args: ['1'], dependsOn: ['a'] },
        { id: 'd', script: HELD, args: [`${release}/d`], dependsOn: ['b', 'c'] },
      ],
    });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs', exact: true }).click();
    await page.getByRole('link', { name: 'e2e-diamond', exact: true }).click();
    await page.waitForURL(`${base}/runs/${runId}`);
    // A mark that a reload would lose.
    await page.evaluate('window.__sameDocument = true');
    for (const id of ['a', 'b', 'c', 'd']) await node(page, id).waitFor();
    expect(await page.locator('.react-flow__edge').count()).toBe(4);
    // d waits for b and c, which wait for a: it cannot have started yet.
    expect(await statusOf(page, 'd')).toMatch(/^(Pending|Queued)$/);
    await screenshot(page, 'dag-live-start', { fullPage: false });

    // b is seen running (after a completed), then completed; so is d; colours follow.
    await node(page, 'b').locator('.job-node-status', { hasText: /^Running$/ }).waitFor({ timeout: 15_000 });
    const runningColour = await toneOf(node(page, 'b'));
    expect(await node(page, 'b').locator('.job-node').getAttribute('class')).toContain('tone-running');
    expect(await statusOf(page, 'a')).toBe('Completed');
    await screenshot(page, 'dag-live-running', { fullPage: false });
    await client.set(`${release}/b`, 'go');
    await node(page, 'd').locator('.job-node-status', { hasText: /^Running$/ }).waitFor({ timeout: 15_000 });
    expect(await statusOf(page, 'b')).toBe('Completed');
    expect(await node(page, 'b').locator('.job-node').getAttribute('class')).toContain('tone-completed');
    const completedColour = await toneOf(node(page, 'b'));
    expect(completedColour).not.toBe(runningColour);
    await client.set(`${release}/d`, 'go');
    await node(page, 'd').locator('.job-node-status', { hasText: /^Completed$/ }).waitFor({ timeout: 15_000 });
    await page.locator('.page-header .badge', { hasText: 'Completed' }).waitFor({ timeout: 10_000 });
    for (const id of ['a', 'b', 'c', 'd']) expect(await statusOf(page, id)).toBe('Completed');
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    await screenshot(page, 'dag-live-done', { fullPage: false });
    expect((await client.getRun(runId)).run.status).toBe('COMPLETED');

    // A finished run can be deleted from its page, after a confirmation.
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: /Delete run/ }).click();
    await page.waitForURL(`${base}/runs`);
    await page.getByRole('table').waitFor();
    expect(await page.getByRole('link', { name: 'e2e-diamond', exact: true }).count()).toBe(0);
    expect((await refusal(client.getRun(runId))).code).toBe('NOT_FOUND');
    errors.expectNone('the live DAG');
  });

  it("Titan's addresses lead to the matching pages: the constructor, a run with its job panel, the runs, the agent runs", async () => {
    const { page, errors } = await signedIn();
    await page.goto(`${base}/dags/new`);
    await page.getByRole('toolbar', { name: 'Constructor' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/constructor');

    // A run id, and Titan's DAG-<name> (the latest run of that pipeline) with its DAG-<job> ids.
    for (const [path, query] of [
      [`/dags/${seeded.pipeline}`, '?job=report'],
      ['/dags/DAG-e2e-pipeline', '?job=DAG-report'],
    ] as const) {
      await page.goto(`${base}${path}${query}`);
      await page.waitForURL(`${base}/runs/${seeded.pipeline}?job=report`);
      await page.getByRole('heading', { name: /e2e-pipeline/, level: 1 }).waitFor();
      const panel = page.locator('aside.job-panel');
      await panel.getByRole('heading', { name: /report/ }).waitFor();
      await panel.locator('pre.log', { hasText: 'step report done' }).waitFor();
    }
    // Back goes to where the browser was before, not to Titan's address (it was replaced).
    await page.goBack();
    await page.waitForURL(`${base}/runs/${seeded.pipeline}?job=report`);

    await page.goto(`${base}/dags`);
    await page.waitForURL(`${base}/runs`);
    await page.getByRole('link', { name: 'e2e-pipeline', exact: true }).waitFor();
    await page.goto(`${base}/agents`);
    await page.waitForURL(`${base}/agent-runs`);
    await page.getByRole('link', { name: seeded.agent }).waitFor();
    // A name that never ran: an empty state, as Titan had, not an error (the browser logs the last try, by id).
    errors.allow({ text: /status of 404/, url: /\/api\/runs\/DAG-never-ran$/ });
    await page.goto(`${base}/dags/DAG-never-ran`);
    await page.getByText('no pipeline of that name has run').waitFor();
    errors.expectNone("Titan's addresses");
  });

  it('a job no worker can take says why in its panel', async () => {
    const { page, errors } = await signedIn();
    const { runId } = await client.submit({ name: 'e2e-needs-gpu', jobs: [{ id: 'train', script: QUICK, requirement: 'GPU' }] });
    try {
      await waitJob(client, `${runId}/train`, 'QUEUED');
      await page.goto(`${base}/runs/${runId}?job=train`);
      const waiting = page.locator('aside.job-panel .job-waiting');
      await waiting.waitFor();
      expect(await waiting.textContent()).toBe('Waiting: no connected worker offers GPU; 1 GENERAL worker is connected');
      await screenshot(page, 'job-waiting', { fullPage: false });
      errors.expectNone('the panel of a waiting job');
    } finally {
      await client.cancelRun(runId);
    }
  });

  it("a job's first line of output appears in its panel while it is still running", async () => {
    const { page, errors } = await signedIn();
    const { runId } = await client.submit({ name: 'e2e-talker', jobs: [{ id: 'talker', script: TALKER }] });
    await page.goto(`${base}/runs/${runId}`);
    await node(page, 'talker').click();
    await page.waitForURL(/\?job=talker$/);
    const panel = page.locator('aside.job-panel');
    const log = panel.locator('pre.log');
    await log.filter({ hasText: 'first line from the talker' }).waitFor({ timeout: 10_000 });
    // Seen while the job still runs: the second line is 3 s away.
    expect(await log.textContent()).not.toContain('second line');
    expect(await panel.locator('.job-panel-status .badge').textContent()).toContain('Running');
    expect((await client.getJob(`${runId}/talker`)).job.status).toBe('RUNNING');
    await screenshot(page, 'log-live', { fullPage: false });
    // The rest arrives on the same stream, and the panel follows the job to its end.
    await log.filter({ hasText: 'second line from the talker' }).waitFor({ timeout: 10_000 });
    await panel.locator('.job-panel-status .badge', { hasText: 'Completed' }).waitFor({ timeout: 10_000 });
    // What the job wrote to stderr is marked (tint, left marker, a title), its stdout is not; live and as read back.
    const stderrMarked = async (): Promise<void> => {
      const marked = log.locator('.log-stderr');
      await marked.first().waitFor({ timeout: 10_000 });
      expect((await marked.allTextContents()).join('')).toBe('a warning from the talker\n');
      expect(await marked.first().getAttribute('title')).toBe('stderr');
    };
    await stderrMarked();
    await page.reload();
    await log.filter({ hasText: 'second line from the talker' }).waitFor({ timeout: 10_000 });
    await stderrMarked();
    // The stored log and `titan logs` stay the job's output as one text, byte for byte.
    const expected = 'first line from the talker\na warning from the talker\nsecond line from the talker\n';
    const chunk = (await (await fetch(`${base}/api/runs/${runId}/jobs/talker/logs`, { headers: { authorization: `Bearer ${cluster.token}` } })).json()) as { data: string; stderr?: [number, number][] };
    expect(chunk.data).toBe(expected);
    expect(chunk.stderr).toEqual([[expected.indexOf('a warning'), 'a warning from the talker\n'.length]]);
    const cli = await cluster.cli(['logs', `${runId}/talker`]);
    expect(cli.stdout).toBe(expected);
    errors.expectNone('the job panel');
  });

  it('approving from the inbox releases the run, records the comment and lowers the badge', async () => {
    const { page, errors } = await signedIn();
    const message = 'Deploy e2e build 42 to production?';
    const { runId } = await client.submit({
      name: 'e2e-approval',
      jobs: [
        { id: 'gate', kind: 'approval', message },
        { id: 'deploy', script: QUICK, dependsOn: ['gate'] },
      ],
    });
    await waitJob(client, `${runId}/gate`, 'WAITING_APPROVAL');
    await page.goto(`${base}/approvals`);
    const waiting = (await client.gates()).pending.length;
    const badge = page.getByRole('navigation', { name: 'Main' }).locator('.nav-badge');
    await badge.filter({ hasText: new RegExp(`^${waiting}$`) }).waitFor();

    const card = page.locator('li.pg-gate').filter({ hasText: message });
    await card.waitFor();
    expect(await card.locator('.gate-message p').textContent()).toBe(message);
    await card.getByLabel(/Comment/).fill('ship it, from the browser');
    await screenshot(page, 'approvals-before-approve');
    await card.getByRole('button', { name: /Approve/ }).click();
    await page.getByText(`Approved ${runId}/gate with the comment “ship it, from the browser”.`).waitFor();
    await card.waitFor({ state: 'detached' });

    const done = await waitRunStatus(client, runId, 'COMPLETED');
    expect(done.jobs.find((j) => j.spec.id === 'deploy')?.status).toBe('COMPLETED');
    const decision = (await client.gates(20)).history.find((d) => d.runId === runId && d.jobId === 'gate');
    expect(decision).toMatchObject({ approved: true, by: 'cluster-token', comment: 'ship it, from the browser', reason: 'decided' });
    // The badge counts one fewer (and disappears at zero).
    if (waiting > 1) await badge.filter({ hasText: new RegExp(`^${waiting - 1}$`) }).waitFor();
    else await badge.waitFor({ state: 'detached' });
    await page.locator('tr').filter({ hasText: `${runId}/gate` }).filter({ hasText: 'ship it, from the browser' }).waitFor();
    await screenshot(page, 'approvals-after-approve');
    errors.expectNone('the approvals inbox');
  });

  it('a run named <script> and a gate message <img onerror> render as literal text', async () => {
    const { page, errors } = await signedIn();
    const { runId } = await client.submit({
      name: XSS_NAME,
      jobs: [
        { id: 'gate', kind: 'approval', message: XSS_MESSAGE },
        { id: 'after', script: QUICK, dependsOn: ['gate'] },
      ],
    });
    await waitJob(client, `${runId}/gate`, 'WAITING_APPROVAL');
    const xss = (): Promise<unknown> => page.evaluate('window.__xss');
    const noInjectedElements = async (): Promise<void> => {
      expect(await page.locator('img[src="x"]').count()).toBe(0);
      expect(await page.locator('script', { hasText: '__xss' }).count()).toBe(0);
      expect(await xss()).toBeUndefined();
    };

    await page.goto(`${base}/runs`);
    await page.getByRole('link', { name: XSS_NAME, exact: true }).waitFor();
    await noInjectedElements();

    await page.goto(`${base}/approvals`);
    const card = page.locator('li.pg-gate').filter({ hasText: XSS_MESSAGE });
    await card.waitFor();
    expect(await card.locator('.gate-message p').textContent()).toBe(XSS_MESSAGE);
    expect(await card.getByRole('link', { name: XSS_NAME, exact: true }).isVisible()).toBe(true);
    await noInjectedElements();
    await screenshot(page, 'xss-approvals');

    await page.goto(`${base}/runs/${runId}?job=gate`);
    await page.getByRole('heading', { level: 1 }).filter({ hasText: XSS_NAME }).waitFor();
    await page.locator('aside.job-panel .gate-message p', { hasText: XSS_MESSAGE }).waitFor();
    await node(page, 'gate').locator('.job-node-status', { hasText: 'Awaiting approval' }).waitFor();
    expect(await page.title()).not.toContain('<');
    await noInjectedElements();
    await screenshot(page, 'xss-run');
    await client.reject(`${runId}/gate`, { comment: 'e2e cleanup' });
    errors.expectNone('pages showing hostile text');
  });

  it('the theme toggle switches the theme and the choice persists across a reload', async () => {
    const { page, errors } = await signedIn('light');
    const theme = (): Promise<string | undefined> => page.evaluate('document.documentElement.dataset.theme');
    const background = (): Promise<string> => page.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(await theme()).toBe('light');
    const lightBackground = await background();
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    expect(await theme()).toBe('dark');
    expect(await background()).not.toBe(lightBackground);
    await page.reload();
    await page.getByRole('button', { name: 'Switch to light theme' }).waitFor();
    expect(await theme()).toBe('dark');
    expect(await page.evaluate("localStorage.getItem('titan.theme')")).toBe('dark');
    await page.getByRole('button', { name: 'Switch to light theme' }).click();
    expect(await theme()).toBe('light');
    expect(await background()).toBe(lightBackground);
    errors.expectNone('the theme toggle');
  });

  it('the error collector itself catches console errors, uncaught exceptions and CSP violations', async () => {
    // Without this, a collector that had stopped working would make every test above pass vacuously.
    const { page, errors } = await signedIn();
    await page.evaluate(`(() => {
      const style = document.createElement('style');
      style.textContent = 'body { color: red }';
      document.head.appendChild(style);
      console.error('deliberate console error');
      setTimeout(() => { throw new Error('deliberate uncaught error'); }, 0);
    })()`);
    await eventually(() => errors.errors.some((e) => e.kind === 'pageerror'), 5_000, 'the uncaught error');
    const kinds = new Set(errors.errors.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(['console', 'csp', 'pageerror']);
    expect(errors.describe()).toContain('deliberate console error');
    expect(errors.describe()).toMatch(/style-src/);
    expect(() => errors.expectNone('the self-test')).toThrow(/deliberate uncaught error/);
    errors.expectNone('the self-test, once reported');
  });

  it('Tab reaches the skip link and then every link of the main navigation', async () => {
    const { page, errors } = await signedIn();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    // Strings, not functions: this file is type-checked without the DOM library.
    const focused = (): Promise<{ text: string; label: string; inNav: boolean }> =>
      page.evaluate(`(() => {
        const el = document.activeElement;
        return { text: (el?.textContent ?? '').trim(), label: (el?.querySelector('.nav-label')?.textContent ?? '').trim(), inNav: Boolean(el?.closest('nav[aria-label="Main"]')) };
      })()`);
    await page.evaluate('document.activeElement?.blur()');
    await page.keyboard.press('Tab');
    expect((await focused()).text).toBe('Skip to main content');
    const labels: string[] = [];
    for (let i = 0; i < 20 && labels.length < 13; i++) {
      await page.keyboard.press('Tab');
      const f = await focused();
      if (f.inNav) labels.push(f.label);
    }
    expect(labels).toEqual(['Overview', 'Runs', 'Constructor', 'Approvals', 'Agent runs', 'Services', 'Schedules', 'Triggers', 'Store', 'Artifacts', 'Workers', 'Queue', 'Audit']);
    // Enter on a focused nav link goes there; focus moves to the page.
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
    expect(await page.evaluate('document.activeElement?.id')).toBe('main');
    await screenshot(page, 'keyboard-nav', { fullPage: false });
    errors.expectNone('keyboard navigation');
  });

  it('drains a worker after confirming, and undrains it with one click', async () => {
    const { page, errors } = await signedIn('light', '/workers');
    const row = page.locator('tr').filter({ hasText: '127.0.0.1:8100' });
    await row.getByRole('button', { name: 'Drain 127.0.0.1:8100' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Drain', exact: true }).click();
    await row.locator('.badge').filter({ hasText: 'Draining' }).waitFor();
    expect((await client.workers())[0]?.state).toBe('draining');
    await row.getByRole('button', { name: 'Undrain 127.0.0.1:8100' }).click();
    await page.getByText('127.0.0.1:8100 takes new jobs again.').waitFor();
    await row.locator('.badge').filter({ hasText: 'Connected' }).waitFor();
    expect((await client.workers())[0]?.state).toBe('connected');
    // It takes work again.
    const { runId } = await client.submit({ name: 'after-undrain', jobs: [{ id: 'q', script: QUICK }] });
    await waitRunStatus(client, runId, 'COMPLETED');
    errors.expectNone('drain and undrain');
  });
});

/** The React Flow node of a job (React Flow sets `data-id` to the node id, which is the job id). */
function node(page: Page, id: string): Locator {
  return page.locator(`.react-flow__node[data-id="${id}"]`);
}

async function statusOf(page: Page, id: string): Promise<string> {
  return ((await node(page, id).locator('.job-node-status').textContent()) ?? '').trim();
}

/** The node's status colour (its thick left border). */
function toneOf(n: Locator): Promise<string> {
  // Typed by hand: this file is type-checked without the DOM library.
  type Styles = { getComputedStyle(el: unknown): { borderLeftColor: string } };
  return n.locator('.job-node').evaluate((el) => (globalThis as unknown as Styles).getComputedStyle(el).borderLeftColor);
}
