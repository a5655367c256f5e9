import { describe, expect, it } from 'vitest';
import { roundsOf, type RoundJob } from './rounds.ts';

const job = (id: string, createdAt: number, addedBy?: string): RoundJob => ({ spec: { id }, status: 'COMPLETED', createdAt, ...(addedBy !== undefined && { addedBy }) });

describe('roundsOf', () => {
  it('puts the submitted jobs first, then each runtime addition by its time and adding job', () => {
    const rounds = roundsOf(1_000, [job('plan', 1_000), job('a', 2_000, 'plan'), job('b', 2_000, 'plan'), job('c', 3_000, 'a'), job('outside', 2_500)]);
    expect(rounds.map((r) => [r.index, r.at, r.addedBy, r.jobs.map((j) => j.id)])).toEqual([
      [0, 1_000, null, ['plan']],
      [1, 2_000, 'plan', ['a', 'b']],
      [2, 2_500, null, ['outside']],
      [3, 3_000, 'a', ['c']],
    ]);
  });

  it('keeps two jobs adding at the same moment apart', () => {
    const rounds = roundsOf(0, [job('x', 0), job('y', 0), job('p', 5, 'x'), job('q', 5, 'y')]);
    expect(rounds.map((r) => r.addedBy)).toEqual([null, 'x', 'y']);
  });
});
