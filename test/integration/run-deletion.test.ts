/**
 * Deleting runs: `titan delete-run` removes a finished run with its logs and the artifacts its
 * job published, refuses a running one, and leaves other runs alone; `--retain-days` deletes
 * runs that finished longer ago than that when the master starts (and hourly).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, kill, waitForOutput } from '../helpers/cluster.js';
import { py, refusal, sh, waitJob, waitRunStatus } from '../helpers/scripts.js';

const WRITES = py('import os\nopen(os.path.join(os.environ["TITAN_OUTPUT_DIR"], "report.txt"), "w").write("result")\nprint("wrote the report")\n', 'writes.py');
const SLEEPS = sh('sleep 30\n', 'sleeps.sh');

describe('deleting runs', () => {
  const cluster = new Cluster();
  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
  });
  afterAll(() => cluster.stop());

  it('titan delete-run removes a finished run, its logs and artifacts, and refuses a running one', async () => {
    const client = cluster.client();
    const done = await client.submit({ name: 'to-delete', jobs: [{ id: 'write', script: WRITES }] });
    const other = await client.submit({ name: 'to-keep', jobs: [{ id: 'write', script: WRITES }] });
    await waitRunStatus(client, done.runId, 'COMPLETED');
    await waitRunStatus(client, other.runId, 'COMPLETED');
    const logDir = join(cluster.dir, 'data', 'logs', done.runId);
    expect(existsSync(logDir)).toBe(true);
    expect((await client.listArtifacts({ runId: done.runId })).length).toBe(1);

    const r = await cluster.cli(['delete-run', done.runId]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`deleted run ${done.runId}`);
    expect((await refusal(client.getRun(done.runId))).code).toBe('NOT_FOUND');
    expect(existsSync(logDir)).toBe(false);
    expect(await client.listArtifacts({ runId: done.runId })).toEqual([]);
    expect((await client.getRun(other.runId)).run.status).toBe('COMPLETED');
    expect(await client.logs(`${other.runId}/write`)).toContain('wrote the report');

    // An artifact that arrives for the deleted run (a late upload) is refused, not orphaned.
    const provenance = { TITAN_RUN_ID: done.runId, TITAN_JOB_ID: 'write', TITAN_ATTEMPT: '1' };
    Object.assign(process.env, provenance);
    try {
      const late = await refusal(client.publishArtifact('late.txt', new TextEncoder().encode('late')));
      expect(late.code).toBe('NOT_FOUND');
      expect(late.message).toMatch(/is deleted/);
    } finally {
      for (const name of Object.keys(provenance)) delete process.env[name];
    }
    expect(await client.listArtifacts({ runId: done.runId })).toEqual([]);

    const again = await cluster.cli(['delete-run', done.runId]);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain(`no run ${done.runId}`);

    const running = await client.submit({ name: 'busy', jobs: [{ id: 'sleep', script: SLEEPS }] });
    await waitJob(client, `${running.runId}/sleep`, 'RUNNING');
    const refused = await refusal(client.deleteRun(running.runId));
    expect(refused.code).toBe('CONFLICT');
    await client.cancelRun(running.runId);
  });

  it('--retain-days deletes, at start, the runs that finished longer ago than that', async () => {
    const client = cluster.client();
    const old = await client.submit({ name: 'old', jobs: [{ id: 'write', script: WRITES }] });
    await waitRunStatus(client, old.runId, 'COMPLETED');
    await new Promise((r) => setTimeout(r, 1500));
    // About 0.9 s: the run above finished before that; anything newer stays.
    if (cluster.master) await kill(cluster.master, 'SIGTERM');
    await cluster.startMaster(['--retain-days', '0.00001']);
    if (!cluster.master) throw new Error('no master');
    await waitForOutput(cluster.master, /deleted \d+ runs? that finished longer than --retain-days ago/, 10_000);
    const fresh = cluster.client();
    expect((await refusal(fresh.getRun(old.runId))).code).toBe('NOT_FOUND');
    expect(existsSync(join(cluster.dir, 'data', 'logs', old.runId))).toBe(false);
    // Totals still count what ran.
    expect((await fresh.stats()).totals.submitted).toBeGreaterThanOrEqual(4);
  });
});
