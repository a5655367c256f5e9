import { describe, expect, it } from 'vitest';
import { requirementWord } from './arguments.js';

describe('requirementWord', () => {
  it("takes a Titan capability ending the words before -- as the requirement (Titan's run <file> GPU)", () => {
    expect(requirementWord(['GPU'], 0)).toEqual({ args: [], requirement: 'GPU' });
    expect(requirementWord(['a', 'HIGH_MEM'], 0)).toEqual({ args: ['a'], requirement: 'HIGH_MEM' });
    expect(requirementWord(['GENERAL', 'x', 'y'], 2)).toEqual({ args: ['x', 'y'], requirement: 'GENERAL' });
  });

  it('leaves other words, and everything after --, to the script', () => {
    expect(requirementWord([], 0)).toEqual({ args: [], requirement: null });
    expect(requirementWord(['GPU'], 1)).toEqual({ args: ['GPU'], requirement: null });
    expect(requirementWord(['TPU'], 0)).toEqual({ args: ['TPU'], requirement: null });
    expect(requirementWord(['gpu'], 0)).toEqual({ args: ['gpu'], requirement: null });
    expect(requirementWord(['GPU', 'a'], 0)).toEqual({ args: ['GPU', 'a'], requirement: null });
  });
});
