/**
 * Workers have identities, tried as an attacker holding the worker token would against a real
 * master: a second connection claiming a live worker's name is refused (without the name's
 * credential, whatever else it claims) and the victim's attempt completes as if nothing happened;
 * a rogue worker under its own name cannot report on, log for, or upload outputs of another
 * worker's attempt; a job's token publishes only as its own attempt; a restarted worker with its
 * credential file gets its name back at once, and one without it only once the master has
 * forgotten the old worker.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadArtifact } from '../../src/protocol/artifact-transfer.js';
import { jobToken, workerCredential, workerToken } from '../../src/protocol/derived-tokens.js';
import { TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually, kill, launch, type Proc, waitForOutput } from '../helpers/cluster.js';
import { killNine } from '../helpers/faults.js';
import { HandWorker } from '../helpers/hand-worker.js';
import { GATED_PY, readPid, refusal, sh, waitJob } from '../helpers/scripts.js';

const VICTIM = '127.0.0.1:8100';
const WORKER_TIMEOUT_S = 15;

describe('worker identities', () => {
  const cluster = new Cluster(['--worker-timeout', String(WORKER_TIMEOUT_S)]);
  let admin: TitanClient;
  let victim: Proc;
  const hands: HandWorker[] = [];
  const enrol = async (o: Parameters<typeof HandWorker.join>[1]): Promise<HandWorker> => {
    const w = await HandWorker.join(cluster.port, o);
    hands.push(w);
    return w;
  };
  /** A job held RUNNING on the victim worker until the test releases it. */
  async function heldOnVictim(name: string): Promise<{ runId: string; ref: string; attempt: { runId: string; jobId: string; attempt: number }; release: () => void }> {
    const pidFile = join(cluster.dir, `${name}.pid`);
    const releaseFile = join(cluster.dir, `${name}.release`);
    const { runId } = await admin.submit({ name, jobs: [{ id: 'gated', script: GATED_PY, args: [pidFile, releaseFile], retries: 0 }] });
    const ref = `${runId}/gated`;
    expect((await waitJob(admin, ref, 'RUNNING')).workerId).toBe(VICTIM);
    await readPid(pidFile);
    return { runId, ref, attempt: { runId, jobId: 'gated', attempt: 1 }, release: () => writeFileSync(releaseFile, '') };
  }
  /** The victim's job ran once, on the victim, to its end, with its own output only. */
  async function expectUntouched(ref: string): Promise<void> {
    const done = await waitJob(admin, ref, ['COMPLETED', 'FAILED', 'DEAD']);
    expect(done.status).toBe('COMPLETED');
    const { attempts } = await admin.getJob(ref);
    expect(attempts.map((a) => [a.attempt, a.workerId, a.outcome, a.exitCode])).toEqual([[1, VICTIM, 'COMPLETED', 0]]);
    const logs = await admin.logs(ref);
    expect(logs).toContain('released');
    expect(logs).not.toContain('forged');
  }

  beforeAll(async () => {
    await cluster.startMaster();
    victim = await cluster.startWorker({ port: 8100 });
    admin = cluster.client();
  });
  afterAll(async () => {
    for (const h of hands) h.close();
    await cluster.stop();
  });

  it("refuses a second connection claiming a live worker's name, and the victim's attempt completes normally", async () => {
    const job = await heldOnVictim('hijack');
    const worker = workerToken(cluster.token);
    const own = await enrol({ token: worker, port: 8101, capabilities: ['ROGUE'] });
    await own.reclaim();
    const attempts = [
      { token: worker, port: 8100 },
      // Posing as the victim's process, which may take over its own half-open connection.
      { token: worker, port: 8100, pid: victim.child.pid ?? 0 },
      { token: worker, port: 8100, credential: workerCredential(worker, VICTIM) },
      { token: worker, port: 8100, credential: own.hello.credential ?? expect.unreachable('no credential') },
      // A name the master knows needs its credential, whatever the token.
      { token: cluster.token, port: 8100 },
    ];
    for (const attempt of attempts) {
      const err = await refusal(HandWorker.join(cluster.port, attempt));
      expect(err.code, JSON.stringify(attempt)).toBe('UNAUTHORIZED');
      expect(err.message).toContain(`worker name ${VICTIM} belongs to a live worker`);
    }
    const workers = await admin.workers();
    expect(workers.find((w) => w.id === VICTIM)).toMatchObject({ state: 'connected', pid: victim.child.pid, attempts: [job.ref] });
    job.release();
    await expectUntouched(job.ref);
  });

  it("refuses a rogue worker's reports on another worker's attempt, and the victim's job is unaffected", async () => {
    const job = await heldOnVictim('reports');
    const rogue = await enrol({ token: workerToken(cluster.token), port: 0, capabilities: ['ROGUE'] });
    expect(await rogue.reclaim([job.attempt])).toEqual({ abandon: [job.attempt] });
    const finished = (attempt: number): Promise<unknown> => rogue.peer.request('attempts.finished', { results: [{ ...job.attempt, attempt, outcome: 'COMPLETED', exitCode: 0, error: null, errorCode: null }] });
    for (const [n, name] of [
      [1, `${job.runId}/gated#1`],
      [2, `${job.runId}/gated#2`],
    ] as const) {
      const err = await refusal(finished(n));
      expect(err.code).toBe('FORBIDDEN');
      expect(err.message).toBe(`attempts.finished refused: worker ${rogue.id} reports only on its own attempts, and ${name} was not dispatched to it`);
    }
    for (const [event, data] of [
      ['log', { ...job.attempt, data: 'forged output\n' }],
      ['service', { ...job.attempt, phase: 'ready', pid: 1, port: 4242 }],
      ['accepted', { attempts: [job.attempt] }],
    ] as const) {
      const error = rogue.nextError();
      rogue.peer.notify(event, data);
      expect(await error).toMatchObject({ event, code: 'FORBIDDEN', message: expect.stringContaining(`${job.runId}/gated#1 was not dispatched to it`) as unknown });
    }
    // The session goes on: its own business is still served.
    expect(await rogue.peer.request('attempts.finished', { results: [{ runId: 'r-none', jobId: 'x', attempt: 1, outcome: 'COMPLETED', exitCode: 0, error: null, errorCode: null }] })).toEqual({ accepted: 0 });
    const { job: seen } = await admin.getJob(job.ref);
    expect([seen.status, seen.attempt, seen.workerId, seen.service]).toEqual(['RUNNING', 1, VICTIM, null]);
    job.release();
    await expectUntouched(job.ref);
  });

  it("refuses a rogue worker's artifact under another run's key, or for an attempt it does not run", async () => {
    const job = await heldOnVictim('artifacts');
    const rogue = await enrol({ token: workerToken(cluster.token), port: 0, capabilities: ['UPLOADER'] });
    await rogue.reclaim();
    const { runId: ownRun } = await admin.submit({ name: 'rogue-own', jobs: [{ id: 'own', script: sh('exit 0\n'), requirement: 'UPLOADER' }] });
    const ownAttempt = { runId: ownRun, jobId: 'own', attempt: 1 };
    await eventually(() => rogue.dispatched.length === 1, 10_000, 'the rogue to get its own job');
    rogue.acceptAll();
    const call = ((method: string, params: unknown) => rogue.peer.request(method, params)) as Parameters<typeof uploadArtifact>[0];
    const victimKey = `runs/${job.runId}/gated/1/model.bin`;
    const attacks: [string, { runId?: string; jobId?: string; attempt?: number }, RegExp][] = [
      [victimKey, job.attempt, new RegExp(`attempt ${job.runId}/gated#1 is not running on worker ${rogue.id}`)],
      [victimKey, ownAttempt, new RegExp(`"${victimKey}" is not an output of attempt ${ownRun}/own#1: its outputs go under runs/${ownRun}/own/1/`)],
      ['shared/model.bin', {}, /a worker uploads only the outputs of its attempts/],
    ];
    for (const [key, provenance, message] of attacks) {
      const err = await refusal(uploadArtifact(call, key, Buffer.from('forged'), provenance));
      expect(err.code, key).toBe('FORBIDDEN');
      expect(err.message).toMatch(message);
    }
    expect(await admin.listArtifacts({ runId: job.runId })).toEqual([]);
    expect(await admin.listArtifacts({ prefix: `runs/${job.runId}/` })).toEqual([]);
    // Its own attempt's output is welcome, and recorded as that attempt's.
    const mine = await uploadArtifact(call, `runs/${ownRun}/own/1/result.txt`, Buffer.from('mine'), ownAttempt);
    expect(mine).toMatchObject({ key: `runs/${ownRun}/own/1/result.txt`, ...ownAttempt });
    job.release();
    await expectUntouched(job.ref);
    await admin.cancelRun(ownRun);
  });

  it("keeps a job's token to publishing as its own attempt", async () => {
    const job = await heldOnVictim('job-token');
    const asJob = new TitanClient({ host: '127.0.0.1', port: cluster.port, token: jobToken(cluster.token, job.attempt) });
    try {
      const call = ((method: string, params: unknown) => asJob.call(method as never, params as never)) as Parameters<typeof uploadArtifact>[0];
      const forged = await refusal(uploadArtifact(call, 'notes/a.txt', Buffer.from('x'), { runId: 'r-other', jobId: 'gated', attempt: 1 }));
      expect(forged.code).toBe('FORBIDDEN');
      expect(forged.message).toContain(`publishes as its own attempt ${job.runId}/gated#1, not as r-other/gated#1`);
      const elsewhere = await refusal(uploadArtifact(call, 'runs/r-other/gated/1/a.txt', Buffer.from('x'), {}));
      expect(elsewhere.message).toContain(`writes there only under runs/${job.runId}/`);
      // Without provenance it is recorded as the job's own attempt.
      expect(await uploadArtifact(call, 'notes/b.txt', Buffer.from('y'), {})).toMatchObject({ key: 'notes/b.txt', ...job.attempt });
    } finally {
      asJob.close();
    }
    job.release();
    await expectUntouched(job.ref);
  });

  it('gives a restarted worker its name back at once with its credential file; one without it only once the master forgets the old worker', { timeout: 120_000 }, async () => {
    const workDir = join(cluster.dir, 'worker-restarted');
    const first = await cluster.startWorker({ port: 0, workDir });
    const id = /joined master \S+ as (\S+)/.exec(first.output())?.[1] ?? expect.unreachable('no worker id');
    const file = join(workDir, 'credential');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(workerCredential(cluster.token, id));

    await killNine(first.child);
    const killedAt = Date.now();
    // A stranger asks for the name (no credential file) while the master still holds it.
    const port = id.slice(id.lastIndexOf(':') + 1);
    const stranger = launch(['worker', '--master', `127.0.0.1:${cluster.port}`, '--token', workerToken(cluster.token), '--port', port, '--name', '127.0.0.1', '--work-dir', join(cluster.dir, 'worker-stranger')]);
    cluster.workers.push(stranger);
    await waitForOutput(stranger, /belongs to a live worker/, 20_000);

    const second = await cluster.startWorker({ port: 0, workDir });
    expect(second.output()).toContain(`as ${id}`);
    expect(Date.now() - killedAt).toBeLessThan(WORKER_TIMEOUT_S * 1000);
    expect((await admin.workers()).find((w) => w.id === id)).toMatchObject({ state: 'connected', pid: second.child.pid });
    expect(stranger.output()).not.toContain('joined master');

    // The restarted worker stops; once the master has forgotten it, the stranger, still retrying, gets the name.
    await kill(second, 'SIGTERM');
    const joined = await waitForOutput(stranger, /joined master \S+ as (\S+)/, (WORKER_TIMEOUT_S + 30) * 1000);
    expect(joined[1]).toBe(id);
    expect(stranger.output()).toMatch(/master refused this worker: worker name \S+ belongs to a live worker[^\n]*\n[^\n]*retrying in \d+ ms/);
  });
});
