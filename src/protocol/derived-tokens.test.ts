import { describe, expect, it } from 'vitest';
import { derivedRole, jobToken, jobTokenMinter, readToken, workerToken } from './derived-tokens.js';

describe('derived tokens', () => {
  it('are recognised for their role, only under the cluster token they come from', () => {
    for (const [token, role] of [
      [workerToken('secret'), 'worker'],
      [readToken('secret'), 'read'],
      [jobToken('secret', 'r1a2b3'), 'job'],
    ] as const) {
      expect(token).not.toContain('secret');
      expect(derivedRole('secret', token)?.role).toBe(role);
      expect(derivedRole('other', token)).toBeNull();
    }
    expect(derivedRole('secret', jobToken('secret', 'r1a2b3'))).toEqual({ role: 'job', runId: 'r1a2b3' });
  });

  it('mints the same job tokens through the master\'s minter', () => {
    const mint = jobTokenMinter('secret');
    for (const run of ['a', 'b', 'a']) expect(mint(run)).toBe(jobToken('secret', run));
  });

  it('cannot be minted from the worker token', () => {
    expect(derivedRole('secret', jobToken(workerToken('secret'), 'run-9'))).toBeNull();
  });

  it('refuses forgeries: another run id, a changed MAC, missing parts, a bare role, the cluster token', () => {
    const token = jobToken('k', 'run-1');
    const mac = token.slice(token.lastIndexOf('.') + 1);
    const flip = (t: string): string => `${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}`;
    for (const forged of [`job.run-2.${mac}`, flip(token), flip(workerToken('k')), flip(readToken('k')), 'job.', 'job..x', `job.${mac}`, 'worker.', 'read.', 'k', '', undefined]) {
      expect(derivedRole('k', forged)).toBeNull();
    }
  });

  it('keeps run ids that contain dots', () => {
    expect(derivedRole('k', jobToken('k', 'nightly.2026-11-25'))?.runId).toBe('nightly.2026-11-25');
  });
});
