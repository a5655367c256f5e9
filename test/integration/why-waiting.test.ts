/**
 * Why each job that is ready but not running waits, on a real master and worker: a job behind a
 * concurrency key at its limit, a rate-limited job, a job no worker can take, a job waiting for a
 * busy slot, a delayed job and a job behind an open gate each say so in `titan status <job>`, in
 * `titan status <run>` and in the API's job and run views.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInput } from '../../src/sdk/job-input.js';
import type { JobView, RunView } from '../../src/protocol/methods.js';
import type { TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually, pidAlive } from '../helpers/cluster.js';
import { describeRun, freePort, jobOf, readPid, sh, waitRun } from '../helpers/scripts.js';

const TIME = '(?:\\d{4}-\\d\\d-\\d\\d )?\\d\\d:\\d\\d:\\d\\d UTC';
/** Jobs that hold a slot until the run is cancelled, writing their pid first. */
const LONG = ['hold', 'fill', 'fill2'];

const EXPECTED: Record<string, RegExp> = {
  keyed: /^key db is at its limit \(1\/1 running\)$/,
  rated: new RegExp(`^rate limit api: next start at ${TIME}$`),
  fpga: /^no connected worker offers FPGA; 1 GENERAL worker is connected$/,
  next: /^all 3 GENERAL slots are busy; it is next in line$/,
  later: new RegExp(`^delayed until ${TIME}$`),
  deploy: /^waits for its parent gate approve \(awaiting a decision\)$/,
  approve: new RegExp(`^awaiting a decision; times out at ${TIME}$`),
};

describe('why a job that is ready but not running waits', () => {
  const cluster = new Cluster();
  let client: TitanClient;
  let runId = '';
  const pids: number[] = [];

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ capabilities: ['GENERAL'], slots: 3, port: await freePort() });
    client = cluster.client();
  });
  afterAll(async () => {
    if (runId !== '') {
      await client.cancelRun(runId).catch(() => 0);
      await waitRun(client, runId).catch(() => null);
      await eventually(() => pids.every((pid) => !pidAlive(pid)), 15_000, 'the jobs to be killed').catch(() => undefined);
    }
    for (const pid of pids) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    await cluster.stop();
  });

  it('says why, in titan status (job and run) and in the API', async () => {
    const long = sh('echo $$ > "$1/$TITAN_JOB_ID.pid"\nexec sleep 120\n', 'long.sh');
    const quick = sh('echo done\n', 'quick.sh');
    const jobs: JobInput[] = [
      { id: 'hold', script: long, args: [cluster.dir], concurrency: { key: 'db', limit: 1 } },
      { id: 'keyed', script: quick, concurrency: { key: 'db', limit: 1 } },
      // One start an hour: the first takes the token, the next one's is an hour away.
      { id: 'rated0', script: quick, rateLimit: { key: 'api', limit: 1, per: 'hour' } },
      { id: 'rated', script: quick, rateLimit: { key: 'api', limit: 1, per: 'hour' } },
      { id: 'fill', script: long, args: [cluster.dir] },
      { id: 'fill2', script: long, args: [cluster.dir] },
      { id: 'next', script: quick },
      { id: 'fpga', script: quick, requirement: 'FPGA' },
      { id: 'later', script: quick, delayMs: 3_600_000 },
      { id: 'approve', kind: 'approval', message: 'deploy?' },
      { id: 'deploy', script: quick, dependsOn: ['approve'] },
    ];
    ({ runId } = await client.submit({ name: 'waits', jobs }));
    let last = '';
    const view = await eventually(async () => {
      const v = await client.getRun(runId);
      last = describeRun(v);
      return LONG.every((id) => jobOf(v, id).status === 'RUNNING') ? v : null;
    }, 15_000, 'the long jobs to run').catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: ${last}`);
    });
    for (const id of LONG) pids.push(await readPid(join(cluster.dir, `${id}.pid`)));
    expect(Object.fromEntries(view.jobs.map((j) => [j.spec.id, j.status]))).toEqual({
      hold: 'RUNNING', keyed: 'QUEUED', rated0: 'COMPLETED', rated: 'QUEUED', fill: 'RUNNING', fill2: 'RUNNING', next: 'QUEUED', fpga: 'QUEUED', later: 'PENDING', approve: 'WAITING_APPROVAL', deploy: 'PENDING',
    });

    // The API: a job's view, and the run's (which counts the place in line for its first jobs).
    const reasons = (jobs: JobView[]): Record<string, string | null> => Object.fromEntries(jobs.map((j) => [j.spec.id, j.waitingReason]));
    for (const [id, pattern] of Object.entries(EXPECTED)) expect((await client.getJob(`${runId}/${id}`)).job.waitingReason).toMatch(pattern);
    const res = await fetch(`http://127.0.0.1:${cluster.httpPort}/api/runs/${runId}`, { headers: { authorization: `Bearer ${cluster.token}` } });
    expect(res.status).toBe(200);
    const byHttp = reasons(((await res.json()) as RunView).jobs);
    for (const [id, pattern] of Object.entries(EXPECTED)) expect(byHttp[id], id).toMatch(pattern);
    for (const id of LONG) expect(byHttp[id], id).toBeNull();

    // The CLI, one job at a time: the reason follows the status on the first line.
    const statuses = await Promise.all(Object.keys(EXPECTED).map((id) => cluster.cli(['status', `${runId}/${id}`])));
    for (const [i, [id, pattern]] of Object.entries(EXPECTED).entries()) {
      const r = statuses[i] as { code: number | null; stdout: string; stderr: string };
      expect(r.code, r.stderr).toBe(0);
      const first = r.stdout.split('\n')[0] ?? '';
      const head = `${runId}/${id}  ${jobOf(view, id).status}: `;
      expect(first.startsWith(head), first).toBe(true);
      expect(first.slice(head.length)).toMatch(pattern);
    }

    // The CLI, a whole run: one line per job, each waiting one with its reason.
    const whole = await cluster.cli(['status', runId]);
    expect(whole.code, whole.stderr).toBe(0);
    const lines = whole.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^run ${runId} waits  RUNNING  `));
    for (const [id, pattern] of Object.entries(EXPECTED)) {
      const line = lines.find((l) => l.startsWith(`${id} `)) ?? '';
      const reason = pattern.source.replace(/^\^|\$$/g, '');
      expect(line, id).toMatch(new RegExp(`^${id}\\s+${jobOf(view, id).status}\\s+\\d+\\s+\\S+\\s+\\S+\\s+${reason}$`));
    }
    const missing = await cluster.cli(['status', 'no-such-thing']);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('no job or run no-such-thing')]);
  });
});
