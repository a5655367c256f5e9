import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../core/model.js';
import type { JobView } from '../protocol/methods.js';
import { LogReplay, snapshotChanges } from './resume.js';

describe('a log follow opened again', () => {
  it('skips the output the master sends again, and passes on what follows it', () => {
    const replay = new LogReplay();
    expect(replay.fresh(1, 'one\n')).toBe('one\n');
    expect(replay.fresh(1, 'two\n')).toBe('two\n');
    replay.resumed();
    expect(replay.fresh(1, 'one\ntw')).toBe('');
    expect(replay.fresh(1, 'o\nthree\n')).toBe('three\n');
    expect(replay.fresh(1, 'four\n')).toBe('four\n');
  });

  it('passes on output that differs from what was seen (a repeat rather than a loss), and a new attempt whole', () => {
    const replay = new LogReplay();
    replay.fresh(1, 'abc');
    replay.resumed();
    expect(replay.fresh(1, 'abX')).toBe('X');
    replay.resumed();
    expect(replay.fresh(2, 'abc')).toBe('abc');
  });
});

describe('a run watch opened again', () => {
  const run = { runId: 'r1', status: 'RUNNING' } as RunRecord;
  const job = (id: string, status: string): JobView => ({ spec: { id }, status }) as unknown as JobView;

  it('yields the jobs that changed or are new, and the run when it changed', () => {
    const known = new Map([
      ['a', job('a', 'RUNNING')],
      ['b', job('b', 'COMPLETED')],
    ]);
    const changes = snapshotChanges(known, run, { run: { ...run, status: 'COMPLETED' }, jobs: [job('a', 'COMPLETED'), job('b', 'COMPLETED'), job('c', 'COMPLETED')] });
    expect(changes.jobs.map((j) => j.spec.id)).toEqual(['a', 'c']);
    expect(changes.run?.status).toBe('COMPLETED');
    expect(snapshotChanges(known, run, { run, jobs: [...known.values()] })).toEqual({ jobs: [], run: null });
  });
});
