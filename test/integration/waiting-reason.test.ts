/**
 * Why a job waits, on a real cluster: a GENERAL job with only a GPU worker connected says so in
 * `titan status`, in the HTTP job view, in `titan submit --wait` progress and in `titan run`, then
 * runs once a GENERAL worker joins; a draining GENERAL worker is named too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/protocol/methods.js';
import type { TitanClient } from '../../src/sdk/client.js';
import { Cluster, kill, launch, type Proc, waitForOutput } from '../helpers/cluster.js';
import { sh, TempDir, waitJob } from '../helpers/scripts.js';

const NO_GENERAL = 'no connected worker offers GENERAL; 1 GPU worker is connected';
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The exit code of a process started with `launch`. */
const exitOf = (p: Proc): Promise<number | null> =>
  p.child.exitCode !== null ? Promise.resolve(p.child.exitCode) : new Promise((done) => p.child.once('exit', (code) => done(code)));

describe('why a queued job waits', () => {
  const cluster = new Cluster();
  const tmp = new TempDir('titan-waiting-');
  const started: Proc[] = [];
  let client: TitanClient;
  let general = '';

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ capabilities: ['GPU'], slots: 2 });
    client = cluster.client();
  });
  afterAll(async () => {
    for (const p of started) await kill(p, 'SIGKILL');
    await cluster.stop();
    tmp.remove();
  });

  it('says no worker offers GENERAL (status, HTTP, --wait, run) until a GENERAL worker joins, then the job completes', async () => {
    tmp.write('quick.sh', 'echo "quick ran on $TITAN_JOB_ID"\n');
    tmp.write('pipeline.yaml', ['name: waits', 'jobs:', '  - id: quick', '    file: quick.sh', ''].join('\n'));
    const env = { TITAN_HOST: '127.0.0.1', TITAN_PORT: String(cluster.port), TITAN_TOKEN: cluster.token };
    const submit = launch(['submit', tmp.file('pipeline.yaml'), '--wait'], env);
    const run = launch(['run', tmp.file('quick.sh')], env);
    started.push(submit, run);

    // The progress of --wait (not a terminal: one line per change) names the reason once.
    const runId = (await waitForOutput(submit, /run (\S+) \(waits\): 1 jobs/, 20_000))[1] ?? '';
    await waitForOutput(submit, new RegExp(`\\d\\d:\\d\\d:\\d\\d quick QUEUED: ${escape(NO_GENERAL)}\\n`), 20_000);
    await waitForOutput(run, new RegExp(`/quick\\.sh QUEUED: ${escape(NO_GENERAL)}\\n`), 20_000);

    const status = await cluster.cli(['status', `${runId}/quick`]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout.split('\n')[0]).toBe(`${runId}/quick  QUEUED: ${NO_GENERAL}`);

    const http = async (path: string): Promise<unknown> => {
      const res = await fetch(`http://127.0.0.1:${cluster.httpPort}${path}`, { headers: { authorization: `Bearer ${cluster.token}` } });
      expect(res.status, path).toBe(200);
      return res.json();
    };
    const { job } = (await http(`/api/runs/${runId}/jobs/quick`)) as { job: JobView };
    expect([job.status, job.waitingReason]).toEqual(['QUEUED', NO_GENERAL]);
    const whole = (await http(`/api/runs/${runId}`)) as { jobs: JobView[] };
    expect(whole.jobs.map((j) => j.waitingReason)).toEqual([NO_GENERAL]);

    await cluster.startWorker({ capabilities: ['GENERAL'], slots: 2 });
    expect(await exitOf(submit)).toBe(0);
    expect(await exitOf(run)).toBe(0);
    expect(run.output()).toContain('quick ran on quick.sh');
    const done = (await client.getJob(`${runId}/quick`)).job;
    expect([done.status, done.spec.requirement, done.waitingReason]).toEqual(['COMPLETED', 'GENERAL', null]);
    general = done.workerId ?? '';
    expect(general).toBe('127.0.0.1:8101');
    // The reason is said once, not on every line.
    expect(submit.output().split(NO_GENERAL)).toHaveLength(2);
  });

  it('says the only GENERAL worker is draining, and runs the job once it takes work again', async () => {
    await client.drainWorker(general);
    const { runId } = await client.submit({ name: 'drained', jobs: [{ id: 'later', script: sh('echo later\n') }] });
    await waitJob(client, `${runId}/later`, 'QUEUED');
    expect((await client.getJob(`${runId}/later`)).job.waitingReason).toBe('the only GENERAL worker is draining');
    await client.undrainWorker(general);
    const done = await waitJob(client, `${runId}/later`, ['COMPLETED', 'DEAD']);
    expect([done.status, done.workerId]).toEqual(['COMPLETED', general]);
  });
});
