import { describe, expect, it } from 'vitest';
import { credentialName, derivedRole, jobToken, readToken, workerCredential, workerToken } from './derived-tokens.js';

const A1 = { runId: 'r1a2b3', jobId: 'fetch', attempt: 1 };

describe('derived tokens', () => {
  it('are recognised for their role, only under the cluster token they come from', () => {
    for (const [token, role] of [
      [workerToken('secret'), 'worker'],
      [readToken('secret'), 'read'],
      [jobToken('secret', A1), 'job'],
    ] as const) {
      expect(token).not.toContain('secret');
      expect(derivedRole('secret', token)?.role).toBe(role);
      expect(derivedRole('other', token)).toBeNull();
    }
    expect(derivedRole('secret', jobToken('secret', A1))).toEqual({ role: 'job', attempt: A1 });
  });

  it('gives each attempt its own job token', () => {
    const tokens = new Set([A1, { ...A1, attempt: 2 }, { ...A1, jobId: 'other' }, { ...A1, runId: 'r9' }].map((a) => jobToken('secret', a)));
    expect(tokens.size).toBe(4);
  });

  it('cannot be minted from the worker token', () => {
    expect(derivedRole('secret', jobToken(workerToken('secret'), A1))).toBeNull();
  });

  it('refuses forgeries: another attempt, run or job, a changed MAC, missing parts, a bare role, the cluster token', () => {
    const token = jobToken('k', A1);
    const mac = token.slice(token.lastIndexOf('.') + 1);
    const flip = (t: string): string => `${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}`;
    const forgeries = [`job.r1a2b3/fetch/2.${mac}`, `job.r1a2b3/other/1.${mac}`, `job.r9/fetch/1.${mac}`, `job.r1a2b3/fetch/01.${mac}`, `job.r1a2b3/fetch.${mac}`, `job.r1a2b3/fetch/1/x.${mac}`];
    for (const forged of [...forgeries, flip(token), flip(workerToken('k')), flip(readToken('k')), 'job.', 'job..x', `job.${mac}`, 'worker.', 'read.', 'k', '', undefined]) {
      expect(derivedRole('k', forged), String(forged)).toBeNull();
    }
  });

  it('keeps run and job ids that contain dots', () => {
    const a = { runId: 'nightly.2026-11-25', jobId: 'step.1', attempt: 3 };
    expect(derivedRole('k', jobToken('k', a))?.attempt).toEqual(a);
  });

  describe('worker credentials', () => {
    const name = 'gpu-1.example.com:8080';

    it('prove their name, only under the cluster token they come from, and are no token', () => {
      const credential = workerCredential('secret', name);
      expect(credential).not.toContain('secret');
      expect(credentialName('secret', credential)).toBe(name);
      expect(credentialName('other', credential)).toBeNull();
      expect(derivedRole('secret', credential)).toBeNull();
    });

    it("cannot be minted from the worker token, nor turned into another name's", () => {
      const credential = workerCredential('secret', name);
      const mac = credential.slice(credential.lastIndexOf('.') + 1);
      const flip = (t: string): string => `${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}`;
      for (const forged of [workerCredential(workerToken('secret'), name), `node.gpu-1.example.com:8081.${mac}`, `node.${mac}`, flip(credential), 'node.', 'node..', `node.${name}.`, workerToken('secret'), undefined]) {
        expect(credentialName('secret', forged), String(forged)).toBeNull();
      }
    });
  });
});
