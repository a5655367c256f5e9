/**
 * One job, one default. The same job, leaving out retries, priority, requirement and timeout, is
 * submitted through every door (the TypeScript SDK plain and with its builders, a pipeline YAML by
 * `titan submit`, the Python SDK, the MCP tools, `titan run`, Titan's v1 protocol, the dashboard's
 * constructor) to a real master, and each comes out with the defaults of src/core/defaults.ts; an
 * approval gate likewise waits DEFAULT_GATE_WAIT_MS. The Python SDK's mirrored constants equal
 * them. No worker is started: the jobs only need to be accepted, and stay queued.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CAPABILITY, DEFAULT_GATE_WAIT_MS, DEFAULT_PRIORITY, DEFAULT_RETRIES } from '../../src/core/defaults.js';
import type { JobSpec } from '../../src/core/model.js';
import { approval, job } from '../../src/sdk/builders.js';
import type { TitanClient } from '../../src/sdk/client.js';
import { addNode, emptyModel } from '../../web/src/pages/constructor/model.js';
import { toYaml } from '../../web/src/pages/constructor/yaml.js';
import { CLI, Cluster, eventually, ROOT } from '../helpers/cluster.js';
import { TempDir } from '../helpers/scripts.js';

const exec = promisify(execFile);

/** What a run job and a gate get for the fields their submission left out. */
const RUN_DEFAULTS = { retries: DEFAULT_RETRIES, priority: DEFAULT_PRIORITY, requirement: DEFAULT_CAPABILITY, delayMs: 0, affinity: 'none', timeoutMs: undefined };
const GATE_DEFAULTS = { kind: 'approval', timeoutMs: DEFAULT_GATE_WAIT_MS };

const pick = (spec: JobSpec, keys: readonly string[]): Record<string, unknown> => Object.fromEntries(keys.map((k) => [k, (spec as Record<string, unknown>)[k]]));

describe('job defaults are the same through every door', () => {
  const cluster = new Cluster(['--legacy-v1']);
  const tmp = new TempDir('titan-defaults-');
  let sdk: TitanClient;

  async function specOf(ref: string): Promise<JobSpec> {
    return (await sdk.getJob(ref)).job.spec;
  }
  async function expectRunDefaults(ref: string): Promise<void> {
    expect(pick(await specOf(ref), Object.keys(RUN_DEFAULTS)), ref).toEqual(RUN_DEFAULTS);
  }
  async function expectGateDefaults(ref: string): Promise<void> {
    expect(pick(await specOf(ref), Object.keys(GATE_DEFAULTS)), ref).toEqual(GATE_DEFAULTS);
  }
  async function python(code: string, env: Record<string, string>, cwd: string): Promise<string> {
    const { stdout } = await exec('python3', ['-c', code], { cwd, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', TITAN_HOST: '127.0.0.1', TITAN_PORT: String(cluster.port), TITAN_TOKEN: cluster.token, ...env }, timeout: 30_000 });
    return stdout.trim();
  }

  beforeAll(async () => {
    await cluster.startMaster();
    sdk = cluster.client();
    tmp.write('step.py', 'print("step")\n');
  });

  afterAll(async () => {
    await cluster.stop();
    tmp.remove();
  });

  it('the TypeScript SDK, with plain jobs and with its builders', async () => {
    const { runId } = await sdk.submit({ name: 'plain', jobs: [{ id: 'plain', script: { name: 'step.py', content: 'print(1)\n' } }, { id: 'gate', kind: 'approval' }] });
    await expectRunDefaults(`${runId}/plain`);
    await expectGateDefaults(`${runId}/gate`);
    const built = await sdk.submit({ name: 'built', jobs: [job('built', tmp.file('step.py')), approval('gate', 'ok?')] });
    await expectRunDefaults(`${built.runId}/built`);
    await expectGateDefaults(`${built.runId}/gate`);
  });

  it('a pipeline YAML (titan submit), gates by type and by hitl_message alike', async () => {
    tmp.write('pipeline.yaml', 'name: yaml\njobs:\n  - id: yaml\n    file: step.py\n    hitl_message: ok?\n  - id: gate\n    type: approval\n');
    const r = await cluster.cli(['submit', tmp.file('pipeline.yaml'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { runId } = JSON.parse(r.stdout) as { runId: string };
    await expectRunDefaults(`${runId}/yaml`);
    await expectGateDefaults(`${runId}/gate`);
    await expectGateDefaults(`${runId}/hitl-gate-yaml`);
  });

  it('the Python SDK, whose mirrored constants equal the master\'s', async () => {
    const py = join(ROOT, 'python');
    const constants = JSON.parse(await python('import json, titan_sdk as t\nprint(json.dumps([t.DEFAULT_RETRIES, t.DEFAULT_PRIORITY, t.DEFAULT_CAPABILITY, t.DEFAULT_GATE_WAIT_SECONDS * 1000]))', { PYTHONPATH: py }, tmp.path)) as unknown[];
    expect(constants).toEqual([DEFAULT_RETRIES, DEFAULT_PRIORITY, DEFAULT_CAPABILITY, DEFAULT_GATE_WAIT_MS]);
    const runId = await python('from titan_sdk import TitanClient, TitanJob\nprint(TitanClient().submit_dag("python", [TitanJob("python", "step.py"), TitanJob("gate", job_type="APPROVAL")]).run_id)', { PYTHONPATH: py }, tmp.path);
    await expectRunDefaults(`${runId}/python`);
    await expectGateDefaults(`${runId}/gate`);
  });

  it('the MCP tools', async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--root', tmp.path], env: { PATH: process.env.PATH ?? '', TITAN_HOST: '127.0.0.1', TITAN_PORT: String(cluster.port), TITAN_TOKEN: cluster.token }, stderr: 'ignore' });
    const mcp = new Client({ name: 'defaults-test', version: '1.0.0' });
    await mcp.connect(transport);
    try {
      const result = (await mcp.callTool({ name: 'submit_dag', arguments: { name: 'mcp', jobs: [{ id: 'mcp', script_content: 'print(1)\n', hitl_message: 'ok?' }, { id: 'gate', kind: 'approval' }] } })) as { content: { text: string }[]; isError?: boolean };
      expect(result.isError, result.content[0]?.text).toBeFalsy();
      const { runId } = JSON.parse(result.content[0]?.text ?? '') as { runId: string };
      await expectRunDefaults(`${runId}/mcp`);
      await expectGateDefaults(`${runId}/gate`);
      await expectGateDefaults(`${runId}/hitl-gate-mcp`);
    } finally {
      await mcp.close();
    }
  });

  it('titan run', async () => {
    const r = await cluster.cli(['run', '--detach', tmp.file('step.py')]);
    expect(r.code, r.stderr).toBe(0);
    await expectRunDefaults(r.stdout.trim());
  });

  it('titan deploy, whose service gets the same retries and priority as any job', async () => {
    const before = new Set((await sdk.listRuns({ limit: 50 })).map((r) => r.runId));
    const deploy = cluster.cli(['deploy', tmp.file('step.py')]);
    // No worker runs here, so the service waits QUEUED: read its spec, then cancel it to end the command.
    const runId = await eventually(async () => (await sdk.listRuns({ limit: 5 })).find((r) => !before.has(r.runId) && r.counts.QUEUED === 1)?.runId, 15_000, 'the deployed service');
    const spec = await specOf(`${runId}/step.py`);
    expect([spec.kind, spec.retries, spec.priority, spec.requirement]).toEqual(['service', DEFAULT_RETRIES, DEFAULT_PRIORITY, DEFAULT_CAPABILITY]);
    await sdk.cancelRun(runId);
    expect((await deploy).code).toBe(1);
  });

  it("Titan's v1 protocol (retries, which v1 cannot say)", async () => {
    const dir = join(ROOT, 'test/python');
    expect(await python(`from titan_v1_client import *\nprint(submit_dag([Job("v1job", ${JSON.stringify(tmp.file('step.py'))})]))`, { PYTHONPATH: dir }, dir)).toBe('DAG_ACCEPTED');
    await expectRunDefaults('v1job');
  });

  it("the dashboard's constructor, whose blank fields leave the defaults to the master", async () => {
    await sdk.putFile('scripts', { name: 'lib.py', content: 'print("lib")\n' });
    const withRun = addNode({ ...emptyModel(), name: 'constructor' }, 'run', { x: 0, y: 0 }, { file: 'lib.py' }).model;
    const yaml = toYaml(addNode(withRun, 'approval').model);
    const res = await fetch(`http://127.0.0.1:${cluster.httpPort}/api/pipelines/deploy`, { method: 'POST', headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ yaml }) });
    expect(res.status, await res.clone().text()).toBe(200);
    const { runId } = (await res.json()) as { runId: string };
    await expectRunDefaults(`${runId}/task`);
    await expectGateDefaults(`${runId}/approval`);
  });
});
