/**
 * The attacks on a trigger that cost the master something, on the Triggers system with a
 * counting store and a manual clock: a flood of forged deliveries costs a durable write each only
 * up to the recording budget (then it is counted), and it cannot spend the sender's rate.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DeliveryRecord, TriggerRecord } from '../core/trigger.js';
import { RunSpecSchema } from '../core/model.js';
import type { RunRecord } from '../core/model.js';
import { ManualClock } from '../../test/helpers/manual-clock.js';
import { Triggers } from './triggers.js';

function system() {
  const writes: DeliveryRecord[] = [];
  const submitted: string[] = [];
  const clock = new ManualClock(1_700_000_000_000);
  const store = {
    putTrigger: async (_: TriggerRecord) => undefined,
    listTriggers: async () => [],
    deleteTrigger: async () => true,
    addDelivery: async (d: DeliveryRecord) => void writes.push(d),
    listDeliveries: async () => [],
    findRunByRequest: async (): Promise<RunRecord | null> => null,
  };
  const triggers = new Triggers({
    store,
    clock,
    submit: async () => {
      submitted.push(`r${submitted.length + 1}`);
      return { runId: `r${submitted.length}`, jobs: ['a'] };
    },
    check: () => undefined,
    secretValue: (name) => (name === 'KEY' ? 'the-key' : null),
    putBlob: () => 'a'.repeat(64),
    log: () => undefined,
  });
  return { triggers, writes, submitted, clock };
}

const run = RunSpecSchema.parse({ name: 'p', jobs: [{ id: 'a', script: { name: 'a.sh', sha256: 'b'.repeat(64) } }] });
const sign = (body: Buffer, key: string): string => `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;

describe('a flood of forged deliveries', () => {
  it('is recorded up to the budget (the rate per minute) and only counted beyond it; the sender can still deliver', async () => {
    const { triggers, writes, submitted } = system();
    await triggers.create('gh', run, { secret: 'KEY' }, { ratePerMinute: 5, maxBodyBytes: 1024 });
    const body = Buffer.from('{"a":1}');
    for (let i = 0; i < 200; i++) expect((await triggers.deliver('gh', { body, signature: sign(body, 'guess') })).status).toBe(401);
    expect(writes).toHaveLength(5);
    expect((await triggers.get('gh')).unrecorded).toBe(195);
    const ok = await triggers.deliver('gh', { body, signature: sign(body, 'the-key') });
    expect(ok.status).toBe(202);
    expect(submitted).toEqual(['r1']);
  });

  it('an unknown trigger costs no write at all', async () => {
    const { triggers, writes } = system();
    for (let i = 0; i < 50; i++) expect((await triggers.deliver('nope', { body: Buffer.from('{}') })).status).toBe(404);
    expect(writes).toEqual([]);
  });
});
