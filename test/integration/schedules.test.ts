/**
 * Schedules against a real master and worker: a pipeline with `schedule: "* * * * * *"` registered
 * by `titan submit` runs about every second; pause, resume, run-now and delete from the CLI; a
 * master killed with SIGKILL comes back with the schedule and keeps firing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/protocol/methods.js';
import { Cluster, eventually, kill } from '../helpers/cluster.js';
import { TempDir } from '../helpers/scripts.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('schedules', () => {
  const cluster = new Cluster();
  const tmp = new TempDir('titan-schedules-');
  let pipeline: string;

  /** The runs the schedule submitted, oldest first. */
  const tickerRuns = async (): Promise<RunSummary[]> => {
    const client = cluster.client();
    try {
      return (await client.listRuns({ limit: 1000 })).filter((r) => r.name === 'ticker').reverse();
    } finally {
      client.close();
    }
  };

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
    tmp.write('tick.sh', 'echo tick\n');
    pipeline = tmp.write('ticker.yaml', 'name: ticker\nschedule: "* * * * * *"\njobs:\n  - id: tick\n    file: tick.sh\n');
  });
  afterAll(async () => {
    await cluster.stop();
    tmp.remove();
  });

  it('titan submit registers the schedule, and a run appears about every second', { timeout: 20_000 }, async () => {
    const r = await cluster.cli(['submit', pipeline]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^scheduled ticker \(\* \* \* \* \* \*, UTC\); next run \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n$/);
    const runs = await eventually(async () => {
      const list = await tickerRuns();
      return list.length >= 4 && list;
    }, 10_000, 'four runs of the schedule');
    const gaps = runs.slice(1).map((run, i) => run.createdAt - (runs[i] as RunSummary).createdAt);
    // One run per fire time, each submitted at (or just after) a whole second.
    for (const gap of gaps) expect(gap).toBeGreaterThan(700);
    expect(runs.every((run) => run.createdAt % 1000 < 500)).toBe(true);
    await eventually(async () => (await tickerRuns()).some((run) => run.status === 'COMPLETED'), 10_000, 'a scheduled run to complete');

    const list = await cluster.cli(['schedules']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+CRON\s+TIMEZONE\s+NEXT\s+LAST RUN\s+PAUSED\s+LAST DECISION\n/);
    expect(list.stdout).toMatch(/\nticker\s+\* \* \* \* \* \*\s+UTC\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s+r[0-9a-z]+ at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+no\s+due at \S+; submitted run r[0-9a-z]+\n$/);
    const listed = JSON.parse((await cluster.cli(['schedules', 'list', '--json'])).stdout) as { name: string; spec: unknown; paused: boolean; lastRunId: string }[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ name: 'ticker', spec: { cron: '* * * * * *', timezone: 'UTC', overlap: 'skip', missed: 'run-once' }, paused: false });
  });

  it('pause stops the runs, run-now submits one, resume starts them again', { timeout: 20_000 }, async () => {
    const paused = await cluster.cli(['schedules', 'pause', 'ticker']);
    expect(paused).toMatchObject({ code: 0, stdout: 'paused ticker\n' });
    const atPause = (await tickerRuns()).length;
    await sleep(2500);
    expect(await tickerRuns()).toHaveLength(atPause);
    expect((await cluster.cli(['schedules'])).stdout).toMatch(/\nticker\s+\* \* \* \* \* \*\s+UTC\s+paused\s+r\S+ at [\d-]+ [\d:]+\s+yes\s+paused\n$/);

    const now = await cluster.cli(['schedules', 'run-now', 'ticker']);
    expect(now.code).toBe(0);
    const runId = /^submitted run (r[0-9a-z]+)\n$/.exec(now.stdout)?.[1];
    expect(runId).toBeDefined();
    const afterNow = await tickerRuns();
    expect(afterNow).toHaveLength(atPause + 1);
    expect(afterNow.at(-1)?.runId).toBe(runId);

    const resumed = await cluster.cli(['schedules', 'resume', 'ticker']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^resumed ticker; next run \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n$/);
    await eventually(async () => (await tickerRuns()).length >= atPause + 3, 10_000, 'runs after resuming');
  });

  it('keeps the schedule across a master killed with SIGKILL, and fires again', { timeout: 40_000 }, async () => {
    await kill(cluster.master ?? expect.unreachable('no master'), 'SIGKILL');
    const killedAt = Date.now();
    await cluster.startMaster();
    const listed = JSON.parse((await cluster.cli(['schedules', '--json'])).stdout) as { name: string; paused: boolean }[];
    expect(listed.map((s) => [s.name, s.paused])).toEqual([['ticker', false]]);
    await eventually(async () => (await tickerRuns()).filter((run) => run.createdAt > killedAt).length >= 2, 20_000, 'runs after the restart');
    // The restarted master says what it decided for each fire time.
    expect(cluster.master?.output()).toMatch(/titan master: schedule ticker: .*submitted run r[0-9a-z]+\n/);
  });

  it('delete removes the schedule: no more runs, and its name is unknown', { timeout: 20_000 }, async () => {
    const deleted = await cluster.cli(['schedules', 'delete', 'ticker']);
    expect(deleted).toMatchObject({ code: 0, stdout: 'deleted ticker\n' });
    const atDelete = (await tickerRuns()).length;
    expect((await cluster.cli(['schedules'])).stdout).toMatch(/^no schedules/);
    await sleep(2000);
    expect(await tickerRuns()).toHaveLength(atDelete);
    const again = await cluster.cli(['schedules', 'pause', 'ticker']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no schedule ticker/);
  });

  it('refuses bad input with exit code 2', async () => {
    const badName = await cluster.cli(['schedules', 'run-now', 'no good']);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/bad schedule name "no good"/);
    const waitOnly = await cluster.cli(['submit', pipeline, '--wait']);
    expect(waitOnly.code).toBe(2);
    expect(waitOnly.stderr).toMatch(/add --now/);
    const badCron = await cluster.cli(['submit', tmp.write('bad.yaml', 'name: bad\nschedule: "61 * * * *"\njobs:\n  - id: tick\n    file: tick.sh\n')]);
    expect(badCron.code).toBe(2);
    expect(badCron.stderr).toMatch(/bad\.yaml:2:11: "schedule" is not a cron expression: Invalid value for minute: 61/);
  });

  it('titan submit --now registers the schedule and runs it once; --wait follows that run', { timeout: 20_000 }, async () => {
    const yearly = tmp.write('yearly.yaml', 'name: yearly\nschedule:\n  cron: "0 0 1 1 *"\n  timezone: Europe/Berlin\njobs:\n  - id: tick\n    file: tick.sh\n');
    const r = await cluster.cli(['submit', yearly, '--now', '--wait']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^scheduled yearly \(0 0 1 1 \*, Europe\/Berlin\); next run \d{4}-01-01 00:00:00 Europe\/Berlin\nsubmitted run r[0-9a-z]+ now\n/);
    expect(r.stdout).toMatch(/tick\s+COMPLETED/);
    const again = await cluster.cli(['submit', yearly]);
    expect(again.stdout).toMatch(/^updated schedule yearly /);
    const client = cluster.client();
    const [view] = await client.schedules();
    expect(view).toMatchObject({ name: 'yearly', lastDecision: expect.stringMatching(/^updated \(0 0 1 1 \*, Europe\/Berlin\); next at \d{4}-12-31T23:00:00Z$/) });
    expect((await cluster.cli(['submit', tmp.write('plain.yaml', 'name: plain\njobs:\n  - id: tick\n    file: tick.sh\n'), '--now'])).code).toBe(2);
  });
});
