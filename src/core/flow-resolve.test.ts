import { describe, expect, it } from 'vitest';
import { RunSpecSchema } from './model.js';
import { resolveAddedJobs, resolveRunFlow } from './flow-resolve.js';
import { resolveFlowKey } from './flow-keys.js';

const script = { name: 'a.sh', sha256: 'a'.repeat(64) };
const spec = (extra: object, jobs: object[]) => RunSpecSchema.parse({ name: 'nightly', tags: ['customer=acme', 'tier:gold'], agentRunId: 'ag1', jobs, ...extra });

describe('flow keys filled in at submission', () => {
  it('fills every placeholder from the run and the job', () => {
    const src = { runId: 'r1', name: 'nightly', agentRunId: 'ag1', tags: ['customer=acme', 'tier:gold'], jobId: 'j', args: ['eu'], env: { MODEL: 'gpt' } };
    expect(resolveFlowKey('tenant-{tags.customer}-{tags.tier}', src)).toEqual({ key: 'tenant-acme-gold' });
    expect(resolveFlowKey('{run}/{name}/{agentRun}/{job}/{args.0}/{env.MODEL}', src)).toEqual({ key: 'r1/nightly/ag1/j/eu/gpt' });
    expect(resolveFlowKey('openai', src)).toEqual({ key: 'openai' });
  });

  it('names what is missing', () => {
    const src = { runId: 'r1', name: 'n', agentRunId: null, tags: [] };
    expect(resolveFlowKey('t-{tags.customer}', src)).toEqual({ error: 'key "t-{tags.customer}": {tags.customer} needs a tag "customer=<value>" on the run (its tags: none)' });
    expect(resolveFlowKey('{agentRun}', src)).toMatchObject({ error: expect.stringContaining('agent run id') });
    expect(resolveFlowKey('{nope}', src)).toMatchObject({ error: expect.stringContaining('unknown placeholder {nope}') });
    // A value that would make a key outside the alphabet is refused, not silently changed.
    expect(resolveFlowKey('{args.0}', { ...src, args: ['a b'] })).toMatchObject({ error: expect.stringContaining('becomes "a b"') });
  });

  it("resolves a submission's jobs and fairness group, and keeps plain jobs as they are", () => {
    const run = spec({ fairness: { key: '{tags.customer}', weight: 3 } }, [
      { id: 'a', script, concurrency: { key: 'db-{tags.customer}', limit: 2 } },
      { id: 'b', script, rateLimit: { key: 'openai', limit: 60, per: 'minute' } },
      { id: 'c', script },
    ]);
    const out = resolveRunFlow('r9', run);
    expect(out.errors).toEqual([]);
    expect(out.value?.fairness).toEqual({ key: 'acme', weight: 3 });
    expect(out.value?.jobs[0]?.concurrency).toEqual({ key: 'db-acme', limit: 2 });
    expect(out.value?.jobs[1]).toBe(run.jobs[1]);
    expect(out.value?.jobs[2]).toBe(run.jobs[2]);
  });

  it('collects every error of a submission, naming the job and field', () => {
    const run = spec({}, [
      { id: 'a', script, concurrency: { key: '{tags.region}' } },
      { id: 'b', script, rateLimit: { key: '{args.3}', limit: 1 } },
    ]);
    expect(resolveRunFlow('r9', run).errors).toEqual([
      'job a: concurrency key "{tags.region}": {tags.region} needs a tag "region=<value>" on the run (its tags: customer=acme, tier:gold)',
      'job b: rateLimit key "{args.3}": {args.3} needs the job to have that argument (it has 0)',
    ]);
  });

  it("fills the keys of jobs added to a live run from that run's values", () => {
    const out = resolveAddedJobs({ runId: 'r2', name: 'n', agentRunId: 'ag7', status: 'RUNNING', createdAt: 0, finishedAt: null, tags: [] }, spec({}, [{ id: 'x', script, concurrency: { key: 'agent-{agentRun}' } }]).jobs);
    expect(out.value?.[0]?.concurrency?.key).toBe('agent-ag7');
  });

  it('refuses a key template outside the alphabet and a gate that names a key', () => {
    expect(() => spec({}, [{ id: 'a', script, concurrency: { key: 'has space' } }])).toThrow(/a key contains only/);
    expect(() => spec({}, [{ id: 'g', kind: 'approval', concurrency: { key: 'k' } }])).toThrow(/holds no concurrency key/);
  });
});
