import { describe, expect, it } from 'vitest';
import { jobRecord, jobSpec } from '../../test/helpers/records.js';
import { claimOf, isForeign, isRunningOn } from './attempt-claims.js';

const job = (extra: Parameters<typeof jobRecord>[2]) => jobRecord('r1', jobSpec('j'), extra);

describe('attempt claims', () => {
  it("tell the latest attempt's worker, and whether it still runs", () => {
    const running = job({ status: 'RUNNING', attempt: 3, workerId: 'w:1' });
    expect(claimOf(running, 3)).toEqual({ kind: 'latest', workerId: 'w:1', running: true });
    expect([isRunningOn(claimOf(running, 3), 'w:1'), isRunningOn(claimOf(running, 3), 'w:2')]).toEqual([true, false]);
    const done = job({ status: 'COMPLETED', attempt: 3, workerId: 'w:1' });
    expect(isRunningOn(claimOf(done, 3), 'w:1')).toBe(false);
  });

  it('count as forged only a report on the latest attempt by another worker, or on an attempt never dispatched', () => {
    const running = job({ status: 'RUNNING', attempt: 3, workerId: 'w:1' });
    expect(isForeign(claimOf(running, 3), 'w:2')).toBe(true);
    expect(isForeign(claimOf(running, 4), 'w:1')).toBe(true);
    expect(isForeign(claimOf(job({ status: 'QUEUED', attempt: 0, workerId: null }), 1), 'w:1')).toBe(true);
    // The rightful worker, a stale attempt, and a run no longer active: never refused.
    expect(isForeign(claimOf(running, 3), 'w:1')).toBe(false);
    expect(isForeign(claimOf(running, 2), 'w:2')).toBe(false);
    expect(isForeign(claimOf(undefined, 1), 'w:2')).toBe(false);
  });
});
