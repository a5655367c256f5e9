import { describe, expect, it, vi } from 'vitest';
import { TitanClient } from './client.js';

/** One flat name per sub-client, the sub-client method it delegates to, and the arguments to pass. */
const ALIASES = [
  ['getRun', 'run', 'get', ['run-1']],
  ['retryJob', 'job', 'retry', ['run-1/a']],
  ['approve', 'gate', 'approve', ['run-1/gate', { comment: 'ok' }]],
  ['drainWorker', 'worker', 'drain', ['w1']],
  ['stopService', 'service', 'stop', ['run-1/api']],
  ['pauseSchedule', 'schedule', 'pause', ['nightly']],
  ['agentRuns', 'agent', 'list', [5]],
  ['cas', 'store', 'cas', ['k', null, 'v', { ttlMs: 10 }]],
  ['listArtifacts', 'artifact', 'list', [{ prefix: 'out/' }]],
  ['listFiles', 'file', 'list', ['uploads']],
] as const;

describe('TitanClient', () => {
  it.each(ALIASES)('keeps %s as a delegation to %s.%s', async (flat, sub, method, args) => {
    const client = new TitanClient();
    const target = client[sub] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const result = { from: `${sub}.${method}` };
    const spy = vi.spyOn(target, method).mockResolvedValue(result);
    const alias = client[flat] as unknown as (...a: unknown[]) => Promise<unknown>;
    await expect(alias.apply(client, [...args])).resolves.toBe(result);
    expect(spy).toHaveBeenCalledWith(...args);
  });

  it("sends every sub-client's requests through call, over the shared connection", async () => {
    const client = new TitanClient();
    const call = vi.spyOn(client, 'call').mockResolvedValue({ value: 'v', version: 3, expiresAt: null } as never);
    await expect(client.store.get('k')).resolves.toBe('v');
    await client.run.get('run-1');
    expect(call.mock.calls).toEqual([
      ['kv.get', { key: 'k' }],
      ['run.get', { runId: 'run-1' }],
    ]);
  });

  it('sends limits.list, limits.set and limits.remove and answers their results', async () => {
    const client = new TitanClient();
    const limits = [{ key: 'openai', concurrency: 4, rate: { limit: 60, per: 'minute' as const } }];
    const call = vi
      .spyOn(client, 'call')
      .mockResolvedValueOnce({ keys: [{ key: 'openai', limit: limits[0], holders: ['r1/a'], waiters: 2, nextTokenAt: null }] } as never)
      .mockResolvedValueOnce({ limits } as never)
      .mockResolvedValueOnce({ removed: true, limits: [] } as never);
    expect((await client.limits.list())[0]).toMatchObject({ key: 'openai', holders: ['r1/a'], waiters: 2 });
    await expect(client.limits.set({ key: 'openai', concurrency: 4, rate: { limit: 60, per: 'minute' } })).resolves.toEqual(limits);
    await expect(client.limits.remove('openai')).resolves.toEqual({ removed: true, limits: [] });
    expect(call.mock.calls).toEqual([
      ['limits.list', {}],
      ['limits.set', { key: 'openai', concurrency: 4, rate: { limit: 60, per: 'minute' } }],
      ['limits.remove', { key: 'openai' }],
    ]);
  });
});
