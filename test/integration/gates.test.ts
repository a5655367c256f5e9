/**
 * Approval gates and runs that grow at runtime, end to end: a real master and worker, decisions
 * from the CLI and the SDK, a gate that outlives a master restart, and a job that extends its
 * own run through the SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, eventually, ROOT } from '../helpers/cluster.js';
import { js, sh, TempDir, waitJob, waitRunStatus } from '../helpers/scripts.js';

const waitFor = <T>(fn: () => Promise<T | undefined>): Promise<T> => eventually(fn, 20_000, 'the Titan gate to register');

const OK_SH = sh('echo "ran $TITAN_JOB_ID"\n', 'ok.sh');

describe('approval gates', () => {
  const cluster = new Cluster();
  const tmp = new TempDir();
  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ slots: 4 });
  });
  afterAll(async () => {
    await cluster.stop();
    tmp.remove();
  });

  it('a hitl_message in YAML gates the children until someone approves from the CLI', async () => {
    tmp.write('ok.sh', OK_SH.content);
    tmp.write(
      'gated.yaml',
      `name: gated
project: false
jobs:
  - id: build
    file: ok.sh
    hitl_message: "Deploy the build?"
    max_wait_seconds: 600
  - id: deploy
    file: ok.sh
    depends_on: [build]
`,
    );
    const submitted = await cluster.cli(['submit', tmp.file('gated.yaml'), '--json']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const { runId } = JSON.parse(submitted.stdout) as { runId: string };
    const client = cluster.client();
    await waitJob(client, `${runId}/hitl-gate-build`, 'WAITING_APPROVAL');
    const gates = await cluster.cli(['gates']);
    expect(gates.stdout).toContain(`${runId}/hitl-gate-build`);
    expect(gates.stdout).toContain('Deploy the build?');
    // The gate holds no worker slot, and the child has not run.
    expect((await client.workers())[0]?.running).toBe(0);
    expect((await client.getJob(`${runId}/deploy`)).job.status).toBe('PENDING');

    // The decision is recorded under the name of the token that made it.
    const approved = await cluster.cli(['approve', `${runId}/hitl-gate-build`, '-m', 'ship it'], { env: { TITAN_TOKEN: await cluster.namedToken('ana', ['approver']) } });
    expect(approved.code, approved.stderr).toBe(0);
    const done = await waitRunStatus(client, runId, 'COMPLETED');
    expect(done.jobs.map((j) => j.spec.id).sort()).toEqual(['build', 'deploy', 'hitl-gate-build']);
    const history = JSON.parse((await cluster.cli(['gates', '--history', '5', '--json'])).stdout) as { history: { jobId: string; approved: boolean; by: string; comment: string }[] };
    expect(history.history.find((d) => d.jobId === 'hitl-gate-build')).toMatchObject({ approved: true, by: 'ana', comment: 'ship it' });
  });

  it('a rejected gate fails and skips everything downstream; deciding again is refused', async () => {
    const client = cluster.client();
    const { runId } = await client.submit({
      name: 'rejected',
      jobs: [
        { id: 'gate', kind: 'approval', message: 'go?' },
        { id: 'after', script: OK_SH, dependsOn: ['gate'] },
        { id: 'later', script: OK_SH, dependsOn: ['after'] },
      ],
    });
    await waitJob(client, `${runId}/gate`, 'WAITING_APPROVAL');
    const bo = cluster.client(await cluster.namedToken('bo', ['approver']));
    const rejected = await bo.reject(`${runId}/gate`, { comment: 'not now' });
    expect(rejected.job?.status).toBe('DEAD');
    const view = await waitRunStatus(client, runId, 'FAILED');
    expect(Object.fromEntries(view.jobs.map((j) => [j.spec.id, j.status]))).toEqual({ gate: 'DEAD', after: 'SKIPPED', later: 'SKIPPED' });
    expect(view.jobs.find((j) => j.spec.id === 'gate')?.error).toBe('rejected by bo: not now');
    await expect(client.approve(`${runId}/gate`)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(client.approve(`${runId}/after`)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('a gate with a timeout fails when nobody decides, skipping its children', async () => {
    const client = cluster.client();
    const { runId } = await client.submit({ name: 'timeout', jobs: [{ id: 'gate', kind: 'approval', timeoutMs: 800 }, { id: 'after', script: OK_SH, dependsOn: ['gate'] }] });
    const view = await waitRunStatus(client, runId, 'FAILED');
    expect(view.jobs.find((j) => j.spec.id === 'gate')).toMatchObject({ status: 'DEAD', error: 'no decision within 800 ms' });
    expect(view.jobs.find((j) => j.spec.id === 'after')?.status).toBe('SKIPPED');
    const { history } = await client.gates(20);
    expect(history.find((d) => d.runId === runId)).toMatchObject({ approved: false, by: 'titan', reason: 'timeout' });
  });

  it('lists and decides gates over HTTP with the bearer token', async () => {
    const client = cluster.client();
    const { runId } = await client.submit({ name: 'http-gate', jobs: [{ id: 'gate', kind: 'approval', message: 'via http?' }, { id: 'after', script: OK_SH, dependsOn: ['gate'] }] });
    await waitJob(client, `${runId}/gate`, 'WAITING_APPROVAL');
    const base = `http://127.0.0.1:${cluster.httpPort}`;
    const auth = { authorization: `Bearer ${cluster.token}` };
    const listed = (await (await fetch(`${base}/api/gates`, { headers: auth })).json()) as { pending: { ref: string; message: string }[] };
    expect(listed.pending).toContainEqual(expect.objectContaining({ ref: `${runId}/gate`, message: 'via http?' }));
    expect((await fetch(`${base}/api/runs/${runId}/jobs/gate/approve`, { method: 'POST' })).status).toBe(401);
    const res = await fetch(`${base}/api/runs/${runId}/jobs/gate/approve`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ by: 'web', comment: 'fine' }) });
    expect(res.status).toBe(200);
    await waitRunStatus(client, runId, 'COMPLETED');
    const again = await fetch(`${base}/api/runs/${runId}/jobs/gate/reject`, { method: 'POST', headers: auth });
    expect(again.status).toBe(409);
  });

  it('lists and decides Titan-style gates: a job polling titan:hitl:* keys is released by an approval', async () => {
    const sdk = JSON.stringify(`${ROOT}/dist/src/sdk/client.js`);
    // What Titan's hitl_gate.py does, through the data bus: register, then wait for the status key.
    const gateScript = js(
      `import(${sdk}).then(async ({ TitanClient }) => {
  const client = new TitanClient();
  const gate = process.argv[2];
  await client.sadd('titan:hitl:queue', gate);
  await client.set('titan:hitl:status:' + gate, 'WAITING');
  await client.set('titan:hitl:message:' + gate, 'Titan-style approval?');
  await client.set('titan:hitl:ts:' + gate, String(Date.now()));
  for (;;) {
    const status = await client.get('titan:hitl:status:' + gate);
    if (status === 'APPROVED') { console.log('approved'); client.close(); process.exit(0); }
    if (status === 'REJECTED') { console.log('rejected'); client.close(); process.exit(1); }
    await new Promise((r) => setTimeout(r, 100));
  }
});\n`,
      'hitl_gate.mjs',
    );
    const client = cluster.client();
    const { runId } = await client.submit({
      name: 'titan-gate',
      jobs: [
        { id: 'hitl-gate-train', script: gateScript, args: ['hitl-gate-train'], retries: 0 },
        { id: 'deploy', script: OK_SH, dependsOn: ['hitl-gate-train'] },
      ],
    });
    await waitJob(client, `${runId}/hitl-gate-train`, 'RUNNING');
    // The script registers the status before the message: wait for both.
    const listed = await waitFor(async () => (await client.gates()).pending.find((g) => g.ref === 'hitl-gate-train' && g.message !== null));
    expect(listed).toMatchObject({ style: 'titan', message: 'Titan-style approval?' });
    const cli = await cluster.cli(['approve', 'hitl-gate-train', '-m', 'ok'], { env: { TITAN_TOKEN: await cluster.namedToken('ana', ['approver']) } });
    expect(cli.code, cli.stderr).toBe(0);
    await waitRunStatus(client, runId, 'COMPLETED');
    expect(await client.logs(`${runId}/hitl-gate-train`)).toBe('approved\n');
    expect((await client.gates()).pending.map((g) => g.ref)).not.toContain('hitl-gate-train');
    expect((await client.gates(5)).history[0]).toMatchObject({ runId, jobId: 'hitl-gate-train', approved: true, by: 'ana', comment: 'ok' });
    await expect(client.approve('hitl-gate-train')).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(client.approve('hitl-gate-nobody')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a gate with a script and a run job without one, naming the field', async () => {
    const client = cluster.client();
    await expect(client.submit({ name: 'bad', jobs: [{ id: 'g', kind: 'approval', script: OK_SH }] })).rejects.toThrow(/script: an approval gate runs no script/);
    await expect(client.submit({ name: 'bad', jobs: [{ id: 'r' }] })).rejects.toThrow(/script: a run job needs a script/);
  });
});

describe('a gate across a master restart', () => {
  const cluster = new Cluster();
  afterAll(() => cluster.stop());

  it('is still waiting after the master is killed and restarted, and approval then releases the run', async () => {
    await cluster.startMaster();
    await cluster.startWorker();
    const client = cluster.client();
    const { runId } = await client.submit({ name: 'durable-gate', jobs: [{ id: 'gate', kind: 'approval', message: 'after restart?' }, { id: 'after', script: OK_SH, dependsOn: ['gate'] }] });
    await waitJob(client, `${runId}/gate`, 'WAITING_APPROVAL');
    client.close();
    const master = cluster.master;
    if (!master) throw new Error('no master');
    await new Promise<void>((resolve) => {
      master.child.once('exit', () => resolve());
      master.child.kill('SIGKILL');
    });
    await cluster.startMaster();
    const again = cluster.client();
    expect((await again.gates()).pending.map((g) => g.ref)).toEqual([`${runId}/gate`]);
    await again.approve(`${runId}/gate`);
    await waitRunStatus(again, runId, 'COMPLETED');
  });
});

describe('runs that grow at runtime', () => {
  const cluster = new Cluster();
  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ slots: 4 });
  });
  afterAll(() => cluster.stop());

  it('a job fans out ten children and a collector at runtime; the collector sees every result', async () => {
    const sdk = JSON.stringify(`${ROOT}/dist/src/sdk/client.js`);
    const child = js(`const fs = require('fs');\nfs.writeFileSync(process.env.TITAN_SHARED_DIR + '/' + process.env.TITAN_JOB_ID, String(Number(process.argv[2]) ** 2));\n`, 'child.js');
    const collector = js(
      `const fs = require('fs');\nconst dir = process.env.TITAN_SHARED_DIR;\nconst parts = fs.readdirSync(dir).filter((f) => f.startsWith('square-')).sort();\nconsole.log(parts.length, parts.reduce((sum, f) => sum + Number(fs.readFileSync(dir + '/' + f, 'utf8')), 0));\n`,
      'collect.js',
    );
    const planner = js(
      `import(${sdk}).then(async ({ TitanClient }) => {
  const client = new TitanClient();
  const children = Array.from({ length: 10 }, (_, i) => ({ id: 'square-' + i, script: { name: 'child.js', content: ${JSON.stringify(child.content)} }, args: [String(i)], dependsOn: [process.env.TITAN_JOB_ID], affinity: 'required' }));
  const collect = { id: 'collect', script: { name: 'collect.js', content: ${JSON.stringify(collector.content)} }, dependsOn: [process.env.TITAN_JOB_ID, ...children.map((c) => c.id)], affinity: 'required' };
  const added = await client.extendRun([...children, collect]);
  console.log('added', added.jobs.length);
  client.close();
});\n`,
      'plan.mjs',
    );
    const client = cluster.client();
    const { runId } = await client.submit({ name: 'fan-out', jobs: [{ id: 'plan', script: planner, retries: 0 }] });
    const view = await waitRunStatus(client, runId, 'COMPLETED');
    expect(view.jobs).toHaveLength(12);
    expect(await client.logs(`${runId}/plan`)).toBe('added 11\n');
    // 0² + 1² + ... + 9² = 285
    expect(await client.logs(`${runId}/collect`)).toBe('10 285\n');
    // Each added job remembers the job whose own token added it; the planner was submitted.
    expect(Object.fromEntries(view.jobs.map((j) => [j.spec.id, j.addedBy ?? null]))).toMatchObject({ plan: null, 'square-0': 'plan', 'square-9': 'plan', collect: 'plan' });
  });

  it('extends a run from outside by run id, and refuses additions that break the graph', async () => {
    const client = cluster.client();
    const { runId } = await client.submit({ name: 'outside', jobs: [{ id: 'gate', kind: 'approval' }] });
    await waitJob(client, `${runId}/gate`, 'WAITING_APPROVAL');
    await expect(client.extendRun([{ id: 'x', script: OK_SH, dependsOn: ['nope'] }], runId)).rejects.toMatchObject({ code: 'INVALID_DAG', message: expect.stringContaining('"nope"') });
    await expect(client.extendRun([{ id: 'gate', script: OK_SH }], runId)).rejects.toMatchObject({ code: 'INVALID_DAG', message: expect.stringContaining('"gate" is used more than once') });
    await client.extendRun([{ id: 'after-gate', script: OK_SH, dependsOn: ['gate'] }], runId);
    expect((await client.getJob(`${runId}/after-gate`)).job.status).toBe('PENDING');
    await client.approve(`${runId}/gate`);
    const view = await waitRunStatus(client, runId, 'COMPLETED');
    expect(view.jobs.map((j) => j.spec.id)).toEqual(['gate', 'after-gate']);
    expect(view.jobs[1]?.addedBy, 'added from outside the run: by no job').toBeUndefined();
    await expect(client.extendRun([{ id: 'y', script: OK_SH }], 'rnosuchrun')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('agent runs', () => {
  const cluster = new Cluster();
  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
  });
  afterAll(() => cluster.stop());

  it('groups runs submitted with one agentRunId: listed, shown in order, and followed live', async () => {
    const client = cluster.client();
    const stages: string[] = [];
    for (const name of ['plan', 'act', 'reflect']) {
      const { runId } = await client.submit({ name, agentRunId: 'agent-7', jobs: [{ id: 'step', script: OK_SH }] });
      await waitRunStatus(client, runId, 'COMPLETED');
      stages.push(runId);
    }
    await client.submit({ name: 'elsewhere', jobs: [{ id: 'step', script: OK_SH }] });

    const list = await client.agentRuns();
    expect(list.map((a) => [a.agentRunId, a.runs])).toEqual([['agent-7', 3]]);
    const view = await client.agentRun('agent-7');
    expect(view.stages.map((s) => [s.runId, s.name, s.status])).toEqual([
      [stages[0], 'plan', 'COMPLETED'],
      [stages[1], 'act', 'COMPLETED'],
      [stages[2], 'reflect', 'COMPLETED'],
    ]);
    const shown = await cluster.cli(['agent-runs', 'show', 'agent-7']);
    expect(shown.code).toBe(0);
    expect(shown.stdout.split('\n').filter((l) => /COMPLETED/.test(l))).toHaveLength(3);

    const follow = client.followAgentRun('agent-7');
    const first = await follow.next();
    expect(first.value).toMatchObject({ type: 'snapshot' });
    const watcher = cluster.client();
    const { runId } = await watcher.submit({ name: 'again', agentRunId: 'agent-7', jobs: [{ id: 'step', script: OK_SH }] });
    const seen: string[] = [];
    while (!seen.includes('COMPLETED')) {
      const next = await follow.next();
      if (next.done || next.value.type !== 'stage') continue;
      expect(next.value.run.runId).toBe(runId);
      seen.push(next.value.run.status);
    }
    await follow.return(undefined);
    expect(seen).toEqual(['RUNNING', 'COMPLETED']);
    await expect(client.agentRun('nobody')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
