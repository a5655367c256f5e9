/**
 * Titan's key-based gates are decided by writing their status key on the data bus. That write is
 * a gate decision: a caller who may not decide gates (an operator's token, a job's token, an
 * agent) cannot pass one by writing the key over TCP or HTTP, while the gate's own job may still
 * register itself as WAITING and an approver may decide it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TitanClient } from '../../src/sdk/client.js';
import { Cluster } from '../helpers/cluster.js';
import { refusal } from '../helpers/scripts.js';

const KEY = 'titan:hitl:status:hitl-gate-deploy';

describe("Titan gates' status keys", () => {
  const cluster = new Cluster();
  let operator: TitanClient;
  let approver: TitanClient;
  let operatorToken = '';

  beforeAll(async () => {
    await cluster.startMaster();
    operatorToken = await cluster.namedToken('ops-bot', ['operator']);
    operator = cluster.client(operatorToken);
    approver = cluster.client(await cluster.namedToken('release-lead', ['approver', 'operator']));
  });
  afterAll(() => cluster.stop());

  it('refuses a decision written by a caller who may not decide gates, over TCP and HTTP', async () => {
    await operator.set(KEY, 'WAITING');
    const attempts = [() => operator.set(KEY, 'APPROVED'), () => operator.call('kv.cas', { key: KEY, expected: 'WAITING', value: 'APPROVED' }), () => operator.call('kv.del', { key: KEY })];
    for (const attempt of attempts) {
      const err = await refusal(attempt());
      expect(err.code).toBe('FORBIDDEN');
      expect(err.message).toMatch(/decides a Titan gate: the token ops-bot cannot decide gates/);
    }
    const http = await fetch(`http://127.0.0.1:${cluster.httpPort}/api/kv/${encodeURIComponent(KEY)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'APPROVED' }),
    });
    expect(http.status).toBe(403);
    expect(await operator.get(KEY)).toBe('WAITING');
  });

  it('lets an approver decide by writing the key', async () => {
    await approver.set(KEY, 'APPROVED');
    expect(await approver.get(KEY)).toBe('APPROVED');
  });
});
