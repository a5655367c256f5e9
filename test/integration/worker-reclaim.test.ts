/**
 * A worker holding many attempts reconnects after a master restart and reclaims them in
 * `worker.reclaim`, well past what a HELLO may carry: the master keeps exactly the attempts it
 * dispatched to that worker, tells it to abandon the rest, sends it nothing before the reclaim,
 * and lets the name back only with its credential. The worker is spoken by hand, so that it can
 * hold a thousand attempts without running them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PRE_HELLO_MAX_PAYLOAD } from '../../src/protocol/peer.js';
import { workerToken } from '../../src/protocol/derived-tokens.js';
import { Cluster, eventually } from '../helpers/cluster.js';
import { killNine, sleep } from '../helpers/faults.js';
import { HandWorker } from '../helpers/hand-worker.js';
import { refusal, sh, waitRunStatus } from '../helpers/scripts.js';

const HELD = 1000;
const NAME = '127.0.0.1:8200';

describe('reclaiming many attempts', () => {
  const cluster = new Cluster(['--reclaim-grace', '60']);
  const hands: HandWorker[] = [];
  const join = async (credential?: string): Promise<HandWorker> => {
    const w = await HandWorker.join(cluster.port, { token: workerToken(cluster.token), port: 8200, capabilities: ['BULK'], slots: HELD + 1, ...(credential !== undefined && { credential }) });
    hands.push(w);
    return w;
  };
  afterAll(async () => {
    for (const h of hands) h.close();
    await cluster.stop();
  });

  it(`reclaims ${2 * HELD} attempt ids after a master restart: keeps the ${HELD} it holds, abandons the ${HELD} it was never given`, { timeout: 120_000 }, async () => {
    await cluster.startMaster();
    const first = await join();
    expect(first.id).toBe(NAME);
    await first.reclaim();
    const client = cluster.client();
    const ids = Array.from({ length: HELD }, (_, i) => `j${String(i).padStart(4, '0')}`);
    const { runId } = await client.submit({ name: 'bulk', jobs: ids.map((id) => ({ id, script: sh('exit 0\n'), requirement: 'BULK', retries: 0 })) });
    await eventually(() => first.dispatched.length === HELD, 30_000, `${HELD} dispatches`);
    first.acceptAll();
    await eventually(async () => (await client.getRun(runId)).jobs.every((j) => j.status === 'RUNNING'), 15_000, 'every job to be running');

    await killNine(cluster.master?.child ?? expect.unreachable('no master'));
    client.close();
    await cluster.startMaster();
    const after = cluster.client();

    // The name holds restored attempts: without its credential it is refused.
    const stranger = await refusal(join());
    expect([stranger.code, stranger.message]).toEqual(['UNAUTHORIZED', expect.stringContaining(`worker name ${NAME} belongs to a live worker`)]);
    const back = await join(first.hello.credential);
    expect(back.id).toBe(NAME);
    // Nothing is dispatched to it before its reclaim, though it has a free slot.
    const { runId: lateRun } = await after.submit({ name: 'late', jobs: [{ id: 'late', script: sh('exit 0\n'), requirement: 'BULK' }] });
    await sleep(500);
    expect(back.dispatched).toEqual([]);

    const held = ids.map((jobId) => ({ runId, jobId, attempt: 1 }));
    // Never dispatched: attempt 2 of its own jobs, and jobs the run does not have.
    const bogus = [...ids.slice(0, HELD / 2).map((jobId) => ({ runId, jobId, attempt: 2 })), ...ids.slice(HELD / 2).map((jobId) => ({ runId, jobId: `ghost-${jobId}`, attempt: 1 }))];
    const running = [...held, ...bogus];
    expect(running).toHaveLength(2 * HELD);
    expect(Buffer.byteLength(JSON.stringify({ running }))).toBeGreaterThan(10 * PRE_HELLO_MAX_PAYLOAD);
    const { abandon } = await back.reclaim(running);
    expect(abandon).toEqual(bogus);

    await eventually(() => back.dispatched.some((d) => d.runId === lateRun), 10_000, 'the late job to be dispatched after the reclaim');
    const results = [...held, { runId: lateRun, jobId: 'late', attempt: 1 }].map((a) => ({ ...a, outcome: 'COMPLETED', exitCode: 0, error: null, errorCode: null }));
    expect(await back.peer.request('attempts.finished', { results })).toEqual({ accepted: HELD + 1 });
    const final = await waitRunStatus(after, runId, 'COMPLETED', 30_000);
    expect(final.jobs.filter((j) => j.attempt !== 1 || j.workerId !== NAME)).toEqual([]);
    await waitRunStatus(after, lateRun, 'COMPLETED', 10_000);
  });
});
