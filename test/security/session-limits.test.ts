/**
 * One connection cannot take what every client shares: its subscriptions and data-bus waits are
 * capped (SESSION_LIMITS), the one over the cap is refused with UNAVAILABLE, and other
 * connections are served meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TitanClient } from '../../src/sdk/client.js';
import { SESSION_LIMITS } from '../../src/server/limits.js';
import { Cluster } from '../helpers/cluster.js';
import { refusal, waitJob } from '../helpers/scripts.js';

describe('per-connection limits', () => {
  const cluster = new Cluster();
  let greedy: TitanClient;
  beforeAll(async () => {
    await cluster.startMaster();
    greedy = cluster.client();
  });
  afterAll(() => cluster.stop());

  it('caps subscriptions and kv.wait calls per connection, even when they arrive in one burst', async () => {
    const { runId } = await greedy.submit({ name: 'watched', jobs: [{ id: 'gate', kind: 'approval', message: 'hold' }] });
    await waitJob(greedy, `${runId}/gate`, 'WAITING_APPROVAL');
    const watches = await Promise.allSettled(Array.from({ length: SESSION_LIMITS.subscriptions + 5 }, () => greedy.call('run.watch', { runId })));
    expect(watches.filter((w) => w.status === 'fulfilled')).toHaveLength(SESSION_LIMITS.subscriptions);
    const refused = watches.find((w) => w.status === 'rejected');
    expect(refused?.status === 'rejected' && (refused.reason as Error).message).toMatch(/already holds 256 subscriptions/);
    const waits = Array.from({ length: SESSION_LIMITS.waits }, (_, i) => greedy.call('kv.wait', { key: `k${i}`, timeoutMs: 30_000 }).catch(() => null));
    const over = await refusal(greedy.call('kv.wait', { key: 'one-more', timeoutMs: 30_000 }));
    expect(over.code).toBe('UNAVAILABLE');
    expect(over.message).toMatch(/already holds 256 kv.wait calls/);
    // Another connection is served as usual.
    const other = cluster.client();
    expect((await other.call('kv.wait', { key: 'k0', timeoutMs: 10 })).changed).toBe(false);
    greedy.close();
    await Promise.all(waits);
  });
});
