import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../core/model.js';
import type { JobView, RunView } from '../protocol/methods.js';
import { jobRecord, jobSpec } from '../../test/helpers/records.js';
import { jobDetail, Progress } from './progress.js';

/** A stream that is not a terminal: the progress writes one plain line per change. */
function piped(): { out: NodeJS.WriteStream; lines: () => string[] } {
  const chunks: string[] = [];
  const out = { isTTY: false, write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { out, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => l.replace(/^\d\d:\d\d:\d\d /, '')) };
}

const view = (id: string, o: Partial<JobRecord>, waitingReason: string | null): JobView => ({ ...jobRecord('r1', jobSpec(id), o), ref: `r1/${id}`, waitingReason });
const run = (jobs: JobView[]): RunView => ({ run: { runId: 'r1', name: 'nightly', agentRunId: null, status: 'RUNNING', createdAt: 0, finishedAt: null, tags: [] }, jobs });
const BUSY = 'all 2 GENERAL slots are busy';

describe('progress lines while jobs wait', () => {
  it('says each reason once, whatever the place in line, and leaves out jobs waiting for their parents', () => {
    const { out, lines } = piped();
    new Progress(
      run([
        view('a', { status: 'QUEUED' }, `${BUSY}; it is next in line`),
        view('b', { status: 'QUEUED' }, `${BUSY}; 1 job ahead of it`),
        view('later', { status: 'PENDING', notBefore: 5_000 }, 'delayed until 12:00:03 UTC'),
        view('after', { status: 'PENDING' }, 'waits for its parent a (QUEUED)'),
      ]),
      out,
    );
    expect(lines()).toEqual(['run r1 (nightly): 4 jobs', `a QUEUED: ${BUSY}; it is next in line`, 'later PENDING: delayed until 12:00:03 UTC']);
  });

  it("says a failed attempt's error, then when it is retried; a key's hold once", () => {
    const { out, lines } = piped();
    const p = new Progress(run([view('flaky', { status: 'RUNNING', attempt: 1, workerId: 'w1' }, null), view('k', { status: 'QUEUED' }, 'key db is at its limit (1/1 running)')]), out);
    p.update({ type: 'job', job: view('flaky', { status: 'FAILED', attempt: 1, error: 'exit code 3', notBefore: 5_000 }, 'retrying after backoff at 12:00:03 UTC, attempt 2 of 4') });
    p.update({ type: 'job', job: view('k', { status: 'QUEUED' }, 'key db is at its limit (1/1 running)') });
    expect(lines().slice(1)).toEqual(['k QUEUED: key db is at its limit (1/1 running)', 'flaky FAILED: exit code 3; retrying after backoff at 12:00:03 UTC, attempt 2 of 4']);
  });

  it('puts the error of the last attempt before the reason in a job table', () => {
    expect(jobDetail(view('a', { status: 'QUEUED' }, BUSY))).toBe(BUSY);
    expect(jobDetail(view('a', { status: 'FAILED', error: 'exit code 3' }, 'retrying after backoff at 12:00:03 UTC, attempt 2 of 4'))).toBe('exit code 3; retrying after backoff at 12:00:03 UTC, attempt 2 of 4');
    expect(jobDetail(view('a', { status: 'COMPLETED', error: 'ignored' }, null))).toBe('');
  });
});
