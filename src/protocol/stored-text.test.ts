import { describe, expect, it } from 'vitest';
import { KvValueSchema } from '../core/data.js';
import { RunSpecSchema } from '../core/model.js';
import { FinishedAttemptSchema, params } from './methods.js';
import { scrubNul } from '../core/stored-text.js';

describe('text a store keeps holds no NUL character', () => {
  it('refuses a data bus value, a run name and a gate comment with U+0000, naming the rule', () => {
    expect(KvValueSchema.safeParse('a\u0000b').error?.issues[0]?.message).toBe('a value must not contain the NUL character (U+0000)');
    expect(KvValueSchema.safeParse('tab\tand newline\n are fine').success).toBe(true);
    const run = RunSpecSchema.safeParse({ name: 'x\u0000', jobs: [{ id: 'a', script: { name: 'a.sh', sha256: 'a'.repeat(64) } }] });
    expect(run.error?.issues.map((i) => i.message)).toContain("a run's name must not contain the NUL character (U+0000)");
    expect(params['gate.decide'].safeParse({ ref: 'r/g', approved: true, comment: 'ok\u0000' }).error?.issues[0]?.message).toBe('a comment must not contain the NUL character (U+0000)');
  });

  it("replaces U+0000 in a worker's report of a failure instead of refusing the report", () => {
    const report = FinishedAttemptSchema.parse({ runId: 'r', jobId: 'j', attempt: 1, outcome: 'FAILED', exitCode: 1, error: 'bad\u0000byte', errorCode: 'EXIT' });
    expect(report.error).toBe('bad\uFFFDbyte');
    expect(scrubNul('plain')).toBe('plain');
  });
});
