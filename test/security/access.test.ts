/**
 * One access policy (protocol/access.ts), tried against a real master: every client method
 * called with every role is refused exactly where the table says; a job's token reaches its own
 * run and the runs it submitted and nothing else, dies with its attempt and never comes back when
 * the job runs again; a read token sees the names of environment variables, not their values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS, refusal as policyRefusal } from '../../src/protocol/access.js';
import { type Permission, permissionsOf, type Principal } from '../../src/protocol/roles.js';
import { jobToken, readToken } from '../../src/protocol/derived-tokens.js';
import { WORKER_METHODS } from '../../src/protocol/methods.js';
import { TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually } from '../helpers/cluster.js';
import { refusal, sh, waitJob } from '../helpers/scripts.js';

const HOLD = sh('sleep 120\n', 'hold.sh');

describe('access policy', () => {
  const cluster = new Cluster();
  let admin: TitanClient;
  const opened: TitanClient[] = [];
  const as = (token: string): TitanClient => {
    const c = new TitanClient({ host: '127.0.0.1', port: cluster.port, token });
    opened.push(c);
    return c;
  };
  /** A run whose job `id` holds its slot, and the token of that job's running attempt. */
  async function holding(name: string, id = 'hold', extra: { agentRunId?: string } = {}): Promise<{ runId: string; token: string }> {
    const { runId } = await admin.submit({ name, ...extra, jobs: [{ id, script: HOLD, retries: 0, env: { SECRET: 'hunter2' } }] });
    await waitJob(admin, `${runId}/${id}`, 'RUNNING');
    return { runId, token: jobToken(cluster.token, { runId, jobId: id, attempt: 1 }) };
  }

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ slots: 8 });
    admin = cluster.client();
  });
  afterAll(async () => {
    for (const c of opened) c.close();
    await cluster.stop();
  });

  it('refuses every method to every role exactly where the table says', async () => {
    const { token } = await holding('policy');
    const named = async (name: string, roles: ('operator' | 'approver' | 'read' | 'admin')[]): Promise<[Principal, TitanClient]> => {
      const created = await admin.call('token.create', { name, roles, expiresAt: null });
      return [{ name, kind: 'token', permissions: permissionsOf(roles) }, as(created.token)];
    };
    const everyone: [Principal, TitanClient][] = [
      [{ name: 'cluster-token', kind: 'cluster', permissions: permissionsOf(['admin']) }, admin],
      [{ name: 'read-token', kind: 'read', permissions: ['read'] as Permission[] }, as(readToken(cluster.token))],
      [{ name: 'job', kind: 'job', permissions: permissionsOf(['job']) }, as(token)],
      await named('policy-operator', ['operator']),
      await named('policy-approver', ['approver']),
      await named('policy-reader', ['read']),
    ];
    const wrong: string[] = [];
    for (const [who, client] of everyone) {
      for (const method of [...Object.keys(ACCESS), ...WORKER_METHODS]) {
        // The agent reach is checked against the call's agent run: tried below.
        if (who.kind === 'job' && (ACCESS as Record<string, { job: string } | undefined>)[method]?.job === 'agent') continue;
        const expected = WORKER_METHODS.has(method as never) || policyRefusal(who, method) !== null;
        const code = await client.call(method as never, {} as never).then(
          () => 'OK',
          (err: { code?: string }) => err.code ?? 'ERROR',
        );
        if ((code === 'FORBIDDEN') !== expected) wrong.push(`${who.name} ${method}: ${code}, the table says ${expected ? 'refuse' : 'allow'}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("keeps a job's token to its own run and the runs it submitted", async () => {
    const victim = await holding('victim', 'v');
    const attacker = await holding('attacker', 'a', { agentRunId: 'agent-7' });
    const job = as(attacker.token);
    const attacks: (() => Promise<unknown>)[] = [
      () => job.getRun(victim.runId),
      () => job.logs(`${victim.runId}/v`),
      () => job.cancelRun(victim.runId),
      () => job.cancel(`${victim.runId}/v`),
      () => job.call('run.extend', { runId: victim.runId, jobs: [{ id: 'injected', kind: 'approval', message: 'x' }] }),
      () => job.call('run.watch', { runId: victim.runId }),
      () => job.call('agentRun.get', { agentRunId: 'someone-else' }),
      () => job.listRuns(),
      () => job.call('gates.list', {}),
      // A bare job id names that job's latest run: here the victim's.
      () => job.cancel('v'),
    ];
    for (const attack of attacks) {
      const err = await refusal(attack());
      expect(err.code, err.message).toBe('FORBIDDEN');
    }
    expect((await admin.getRun(victim.runId)).jobs[0]?.status).toBe('RUNNING');
    // Its own run, its agent run, and a run it submits are within reach.
    expect((await job.getRun(attacker.runId)).run.runId).toBe(attacker.runId);
    expect((await job.getJob('a')).job.runId).toBe(attacker.runId);
    expect((await job.call('agentRun.get', { agentRunId: 'agent-7' })).agentRunId).toBe('agent-7');
    const child = await job.submit({ name: 'child', jobs: [{ id: 'c', script: HOLD }] });
    expect((await job.getRun(child.runId)).run.name).toBe('child');
    expect(await job.cancelRun(child.runId)).toBe(1);
    await admin.cancelRun(victim.runId);
  });

  it("closes a job token's sessions when its attempt ends, and a re-run job's old token stays dead", async () => {
    const { runId, token } = await holding('lifetime');
    const job = as(token);
    expect((await job.stats()).uptimeMs).toBeGreaterThan(0);
    await admin.cancel(`${runId}/hold`);
    const closed = await refusal(job.stats());
    expect(['UNAUTHORIZED', 'UNAVAILABLE']).toContain(closed.code);
    const late = await refusal(as(token).stats());
    expect(late.code).toBe('UNAUTHORIZED');
    expect(late.message).toMatch(/no longer running/);
    // The job runs again (its run reopens): attempt 2 has a token of its own; attempt 1's stays refused.
    await admin.retryJob(`${runId}/hold`);
    await eventually(async () => (await admin.getJob(`${runId}/hold`)).job.attempt === 2 && (await admin.getJob(`${runId}/hold`)).job.status === 'RUNNING', 15_000, 'attempt 2 to run');
    expect((await refusal(as(token).stats())).code).toBe('UNAUTHORIZED');
    expect((await as(jobToken(cluster.token, { runId, jobId: 'hold', attempt: 2 })).stats()).uptimeMs).toBeGreaterThan(0);
    await admin.cancelRun(runId);
  });

  it('shows a read token the names of environment variables, not their values, over TCP and HTTP', async () => {
    const { runId } = await holding('env');
    const reader = as(readToken(cluster.token));
    expect((await reader.getRun(runId)).jobs[0]?.spec.env).toEqual({ SECRET: '(hidden)' });
    expect((await reader.getJob(`${runId}/hold`)).job.spec.env).toEqual({ SECRET: '(hidden)' });
    expect((await admin.getRun(runId)).jobs[0]?.spec.env).toEqual({ SECRET: 'hunter2' });
    const http = async (token: string, path: string): Promise<string> => (await fetch(`http://127.0.0.1:${cluster.httpPort}${path}`, { headers: { authorization: `Bearer ${token}` } })).text();
    for (const path of [`/api/runs/${runId}`, `/api/runs/${runId}/jobs/hold`]) {
      expect(await http(readToken(cluster.token), path)).not.toContain('hunter2');
      expect(await http(cluster.token, path)).toContain('hunter2');
    }
    await admin.cancelRun(runId);
  });
});
