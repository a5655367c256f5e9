import { describe, expect, it } from 'vitest';
import { gateIdFor, injectGates } from './gates.js';

describe('injectGates', () => {
  it('puts a gate after a job and rewires its children to the gate', () => {
    const jobs = [{ id: 'a' }, { id: 'b', dependsOn: ['a'], gate: 'check b' }, { id: 'c', dependsOn: ['b', 'a'] }];
    const out = injectGates(jobs, (j) => (j.gate ? { id: gateIdFor(j.id), message: j.gate } : null));
    expect(out.map((j) => [j.id, j.dependsOn])).toEqual([
      ['a', []],
      ['b', ['a']],
      ['hitl-gate-b', ['b']],
      ['c', ['hitl-gate-b', 'a']],
    ]);
    expect(out[2]).toMatchObject({ message: 'check b' });
  });

  it('returns the jobs unchanged when none asks for a gate', () => {
    const jobs = [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }];
    expect(injectGates(jobs, () => null)).toEqual(jobs);
  });
});
