import { describe, expect, it } from 'vitest';
import { jobToken, jobTokenRun } from './job-token.js';

describe('job tokens', () => {
  it('are recognised for their run, only under the cluster token that made them', () => {
    const token = jobToken('cluster-secret', 'r1a2b3');
    expect(token.startsWith('job.r1a2b3.')).toBe(true);
    expect(token).not.toContain('cluster-secret');
    expect(jobTokenRun('cluster-secret', token)).toBe('r1a2b3');
    expect(jobTokenRun('another-secret', token)).toBeNull();
  });

  it('refuse forgeries: another run id, a changed MAC, missing parts, the cluster token itself', () => {
    const token = jobToken('k', 'run-1');
    const mac = token.slice(token.lastIndexOf('.') + 1);
    for (const forged of [`job.run-2.${mac}`, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, 'job.', 'job..x', `job.${mac}`, 'k', '', undefined]) {
      expect(jobTokenRun('k', forged)).toBeNull();
    }
  });

  it('keep run ids that contain dots', () => {
    expect(jobTokenRun('k', jobToken('k', 'nightly.2026-11-25'))).toBe('nightly.2026-11-25');
  });
});
