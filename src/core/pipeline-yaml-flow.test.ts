/** Flow control in pipeline YAML: a job's concurrency and rate limit, the pipeline's fairness, and their errors. */
import { describe, expect, it } from 'vitest';
import { JobSpecSchema } from './model.js';
import { parsePipelineYaml, PipelineYamlError } from './pipeline-yaml.js';

function refusal(text: string): string {
  try {
    parsePipelineYaml(text, 'p.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(PipelineYamlError);
    return (err as Error).message;
  }
  throw new Error(`expected a refusal of:\n${text}`);
}

const job = (flow: string): string => `jobs:\n  - id: a\n    file: a.py\n  - id: fetch\n    file: f.py\n${flow}`;

describe('flow control in pipeline YAML', () => {
  it('reads concurrency, rate_limit and fairness into the JobSpec and run fields', () => {
    const doc = parsePipelineYaml(
      `name: etl
tags: [customer=acme]
fairness: {key: "tenant-{tags.customer}", weight: 3}
jobs:
  - id: fetch
    file: f.py
    concurrency: {key: openai, limit: 4}
    rate_limit: {key: openai, limit: 60, per: minute, burst: 10}
  - id: plain
    file: p.py
    rate_limit: {key: "db-{job}", limit: 5}
`,
      'p.yaml',
    );
    expect(doc.fairness).toEqual({ key: 'tenant-{tags.customer}', weight: 3 });
    expect(doc.jobs[0]).toMatchObject({ concurrency: { key: 'openai', limit: 4 }, rateLimit: { key: 'openai', limit: 60, per: 'minute', burst: 10 } });
    // The defaults are flow-spec.ts's: a rate per second, a weight of 1.
    expect(doc.jobs[1]?.rateLimit).toEqual({ key: 'db-{job}', limit: 5, per: 'second' });
    expect(doc.jobs[1]).not.toHaveProperty('concurrency');
    expect(parsePipelineYaml('fairness: {key: "{run}"}\njobs:\n  - id: a\n    file: a.py\n', 'p.yaml').fairness).toEqual({ key: '{run}', weight: 1 });
    expect(parsePipelineYaml('jobs:\n  - id: a\n    file: a.py\n', 'p.yaml')).not.toHaveProperty('fairness');
  });

  it('names the job and the field of a bad value, where it is', () => {
    expect(refusal(job('    concurrency: {key: openai, limit: 0}\n'))).toBe('p.yaml:6:39: "jobs.1.concurrency.limit" (job "fetch") Too small: expected number to be >=1');
    expect(refusal(job('    rate_limit: {key: openai, limit: 5, per: fortnight}\n'))).toMatch(/^p\.yaml:6:\d+: "jobs\.1\.rate_limit\.per" \(job "fetch"\) Invalid option: expected one of "second"\|"minute"\|"hour"\|"day"$/);
    expect(refusal(job('    rate_limit: {key: openai, per: minute}\n'))).toBe('p.yaml: "jobs.1.rate_limit.limit" (job "fetch") is required');
    expect(refusal(job('    concurrency: {key: "open ai", limit: 2}\n'))).toMatch(/"jobs\.1\.concurrency\.key" \(job "fetch"\) a key contains only letters, digits/);
    expect(refusal('fairness: {key: run, weight: 0}\njobs:\n  - id: a\n    file: a.py\n')).toMatch(/^p\.yaml:1:\d+: "fairness\.weight" Too small/);
  });

  it('refuses an unknown field with the nearest known one', () => {
    expect(refusal(job('    concurrency: {key: openai, limt: 4}\n'))).toBe('p.yaml:6:32: unknown key "limt" in "jobs.1.concurrency" (job "fetch") (did you mean "limit"?)');
    expect(refusal(job('    rate_limits: {key: openai, limit: 4}\n'))).toBe('p.yaml:6:5: unknown key "rate_limits" (did you mean "rate_limit"?)');
    expect(refusal('fairness: {key: run, wieght: 2}\njobs:\n  - id: a\n    file: a.py\n')).toBe('p.yaml:1:22: unknown key "wieght" (did you mean "weight"?)');
  });

  it("leaves a placeholder's value to submission, and a gate's limits to the JobSpec's rule", () => {
    const doc = parsePipelineYaml(job('    concurrency: {key: "tenant-{tags.nope}"}\n  - id: ok\n    type: approval\n    concurrency: {key: x}\n'), 'p.yaml');
    expect(doc.jobs[1]?.concurrency).toEqual({ key: 'tenant-{tags.nope}' });
    const gate = JobSpecSchema.safeParse(doc.jobs[2]);
    expect(gate.success).toBe(false);
    expect(gate.error?.issues[0]?.message).toBe('an approval gate starts nothing, so it holds no concurrency key or rate limit');
  });
});
