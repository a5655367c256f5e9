/**
 * Every pipeline under examples/ end to end on a real cluster, through the CLI as its README
 * says: a GENERAL worker and a GPU worker; the gate approved with `titan approve`; the service
 * stopped afterwards; the cron pipeline registered, listed, run once and deleted. The walkthrough
 * docs/first-hour.md is run as written, on `titan up`, by first-hour.test.ts.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/cli/pipeline.js';
import type { JobView, RunView } from '../../src/protocol/methods.js';
import type { TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually, ROOT } from '../helpers/cluster.js';
import { jobOf, waitRunStatus } from '../helpers/scripts.js';

const EXAMPLES = join(ROOT, 'examples');
const pipelineOf = (name: string): string => join(EXAMPLES, name, 'pipeline.yaml');

describe('examples/', () => {
  it('every example has a README and a pipeline that parses', () => {
    const names = readdirSync(EXAMPLES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    expect(names).toEqual(['agent', 'approval', 'cron', 'etl', 'gpu', 'project', 'service']);
    for (const name of names) {
      const pipeline = loadPipeline(pipelineOf(name));
      expect(pipeline.jobs.length, name).toBeGreaterThan(0);
      expect(pipeline.tags, name).toContain('example');
      expect(readdirSync(join(EXAMPLES, name)), name).toContain('README.md');
    }
    expect(loadPipeline(pipelineOf('cron')).schedule).toMatchObject({ cron: '*/5 * * * *', timezone: 'UTC' });
  });

  describe('on a cluster', () => {
    const cluster = new Cluster();
    let client: TitanClient;

    beforeAll(async () => {
      await cluster.startMaster();
      await cluster.startWorker({ slots: 4 });
      await cluster.startWorker({ capabilities: ['GPU'], slots: 1 });
      client = cluster.client();
    });

    afterAll(() => cluster.stop());

    /** `titan submit <example> --wait --json`: its exit code and final state. */
    async function submitAndWait(name: string, extra: string[] = []): Promise<RunView> {
      const res = await cluster.cli(['submit', pipelineOf(name), '--wait', '--json', ...extra]);
      expect(res.code, `${name}: ${res.stderr}${res.stdout}`).toBe(0);
      return JSON.parse(res.stdout) as RunView;
    }

    const logsOf = (view: RunView, job: string): Promise<string> => client.logs(`${view.run.runId}/${job}`);

    it('etl: fans out to three transforms and back in to load, which publishes its report', async () => {
      const view = await submitAndWait('etl');
      expect(view.jobs.map((j) => [j.spec.id, j.status])).toEqual(['extract', 'transform-0', 'transform-1', 'transform-2', 'load'].map((id) => [id, 'COMPLETED']));
      expect(await logsOf(view, 'extract')).toMatch(/^extracted 30 records to /);
      expect(await logsOf(view, 'transform-1')).toBe('shard 1/3: 10 records\n');
      expect(await logsOf(view, 'load')).toMatch(/^loaded 30 rows, total 8555\n/);
      const report = await client.getArtifact(`runs/${view.run.runId}/load/1/report.json`);
      expect(JSON.parse(report.toString())).toEqual({ rows: 30, total: 8555 });
    });

    it('gpu: train runs only on the GPU worker, the others on the GENERAL one', async () => {
      const view = await submitAndWait('gpu');
      const [general, gpu] = (await client.workers()).sort((a, b) => a.port - b.port);
      expect(gpu?.capabilities).toEqual(['GPU']);
      expect(jobOf(view, 'train').workerId).toBe(gpu?.id);
      expect(jobOf(view, 'prep').workerId).toBe(general?.id);
      expect(jobOf(view, 'report').workerId).toBe(general?.id);
      expect(await logsOf(view, 'train')).toBe(`epoch 1/3\nepoch 2/3\nepoch 3/3\ntrained on ${gpu?.id} (GPU)\n`);
    });

    it('approval: deploy waits at the gate until it is approved with titan approve', async () => {
      const res = await cluster.cli(['submit', pipelineOf('approval'), '--json']);
      expect(res.code, res.stderr).toBe(0);
      const { runId } = JSON.parse(res.stdout) as { runId: string };
      const gate = `${runId}/approve-release`;
      await eventually(async () => (await client.getJob(gate)).job.status === 'WAITING_APPROVAL', 20_000, 'the gate to wait');
      expect((await client.getJob(`${runId}/deploy`)).job.status).toBe('PENDING');
      const gates = await cluster.cli(['gates']);
      expect(gates.stdout).toContain('Build 1.2.3 is ready. Deploy it to production?');

      const approved = await cluster.cli(['approve', gate, '-m', 'looks good']);
      expect(approved.code, approved.stderr).toBe(0);
      const view = await waitRunStatus(client, runId, 'COMPLETED');
      expect(view.jobs.every((j) => j.status === 'COMPLETED')).toBe(true);
      expect(await client.logs(`${runId}/deploy`)).toBe('deployed release 1.2.3\n');
    });

    it('service: the client reaches the api through $TITAN_SERVICE_API; the api keeps running until stopped', async () => {
      const view = await submitAndWait('service');
      const api = jobOf(view, 'api') as JobView;
      expect(api.status).toBe('RUNNING');
      expect(api.service?.readyAt).not.toBeNull();
      expect(await logsOf(view, 'client')).toMatch(new RegExp(`^api at [^ ]+:${api.service?.port} said: hello, titan\\n$`));
      const stopped = await cluster.cli(['stop', `${view.run.runId}/api`]);
      expect(stopped.code, stopped.stderr).toBe(0);
      await waitRunStatus(client, view.run.runId, 'COMPLETED');
    });

    it('agent: the Node job imports the SDK from $TITAN_SDK and extends its own run until the target', async () => {
      const view = await submitAndWait('agent');
      expect(view.jobs.map((j) => [j.spec.id, j.status])).toEqual(['agent', 'step-1', 'step-2', 'step-3', 'step-4'].map((id) => [id, 'COMPLETED']));
      expect(jobOf(view, 'step-2').spec.dependsOn).toEqual(['step-1']);
      expect(await logsOf(view, 'agent')).toBe('round 1: value 3\nround 2: value 9\nround 3: value 27\nround 4: value 81\ntarget 50 reached after 4 rounds: stopping\n');
      expect(await client.get(`agent-loop:${view.run.runId}:result`)).toBe('81');
    });

    it('project: runs from the zip of its folder', async () => {
      const view = await submitAndWait('project');
      expect(await logsOf(view, 'main')).toContain('greeting: HELLO FROM THE PROJECT!\n');
      expect(await logsOf(view, 'report')).toBe('report: 4 cities in data/input.csv\n');
    });

    it('cron: titan submit registers the schedule; it is listed, runs on request and is deleted', async () => {
      const res = await cluster.cli(['submit', pipelineOf('cron')]);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/^scheduled cron-heartbeat \(\*\/5 \* \* \* \*, UTC\); next run /);
      const list = await cluster.cli(['schedules', '--json']);
      const schedules = JSON.parse(list.stdout) as { name: string; spec: { cron: string } }[];
      expect(schedules.map((s) => [s.name, s.spec.cron])).toEqual([['cron-heartbeat', '*/5 * * * *']]);

      const now = await cluster.cli(['schedules', 'run-now', 'cron-heartbeat']);
      expect(now.code, now.stderr).toBe(0);
      const runId = /submitted run (\S+)/.exec(now.stdout)?.[1] as string;
      await waitRunStatus(client, runId, 'COMPLETED');
      expect(await client.logs(`${runId}/tick`)).toMatch(new RegExp(`run ${runId}: still alive\\n$`));

      expect((await cluster.cli(['schedules', 'delete', 'cron-heartbeat'])).code).toBe(0);
      expect(await client.schedules()).toEqual([]);
    });
  });
});
