import { describe, expect, it } from 'vitest';
import { type DagProblem, validateDag } from './dag.js';
import { LIMITS } from './model.js';

type Node = { id: string; dependsOn: string[] };

const job = (id: string, ...dependsOn: string[]): Node => ({ id, dependsOn });

const codes = (problems: readonly DagProblem[]): string[] => problems.map((p) => p.code);

/**
 * Parses "x -> y -> ... -> x" and checks it is a closed walk along dependency edges: for each
 * step `from -> to`, `to` depends on `from`. Returns the distinct jobs of the cycle.
 */
function cycleOf(problem: DagProblem, jobs: readonly Node[]): string[] {
  expect(problem.code).toBe('CYCLE');
  const text = problem.message.slice(problem.message.indexOf(':') + 1).trim();
  const names = text.split(' -> ');
  expect(names.length).toBeGreaterThanOrEqual(3);
  expect(names[0]).toBe(names[names.length - 1]);
  const byId = new Map(jobs.map((j) => [j.id, j]));
  for (let i = 0; i + 1 < names.length; i++) {
    const from = names[i] as string;
    const to = names[i + 1] as string;
    expect(byId.get(to)?.dependsOn, `${to} should depend on ${from}`).toContain(from);
  }
  const distinct = names.slice(0, -1);
  expect(new Set(distinct).size).toBe(distinct.length);
  return distinct;
}

describe('validateDag', () => {
  it('accepts an empty list and a single job', () => {
    expect(validateDag([])).toEqual([]);
    expect(validateDag([job('a')])).toEqual([]);
  });

  it('refuses to let a run grow past the job cap, counting the jobs it already holds', () => {
    const existing = new Set(Array.from({ length: LIMITS.maxJobsPerRun - 1 }, (_, i) => `e${i}`));
    expect(validateDag([{ id: 'last', dependsOn: [] }], existing)).toEqual([]);
    expect(validateDag([{ id: 'x', dependsOn: [] }, { id: 'y', dependsOn: [] }], existing)).toEqual([{ code: 'TOO_MANY_JOBS', message: `the run would hold ${LIMITS.maxJobsPerRun + 1} jobs; a run holds at most ${LIMITS.maxJobsPerRun}` }]);
  });

  it('reports a duplicate id, naming it', () => {
    const problems = validateDag([job('a'), job('b'), job('a')]);
    expect(codes(problems)).toEqual(['DUPLICATE_ID']);
    expect(problems[0]?.message).toContain('"a"');
  });

  it('reports each extra occurrence of a duplicate id', () => {
    expect(codes(validateDag([job('a'), job('a'), job('a')]))).toEqual(['DUPLICATE_ID', 'DUPLICATE_ID']);
  });

  it('reports an unknown parent, naming the job and the parent', () => {
    const problems = validateDag([job('a'), job('b', 'a', 'ghost')]);
    expect(codes(problems)).toEqual(['UNKNOWN_PARENT']);
    expect(problems[0]?.message).toContain('"b"');
    expect(problems[0]?.message).toContain('"ghost"');
  });

  it('reports a self dependency and not a cycle', () => {
    const problems = validateDag([job('a', 'a')]);
    expect(codes(problems)).toEqual(['SELF_DEPENDENCY']);
    expect(problems[0]?.message).toContain('"a"');
  });

  it('reports every structural problem at once', () => {
    const problems = validateDag([job('a'), job('a'), job('b', 'b'), job('c', 'nope')]);
    expect(codes(problems).sort()).toEqual(['DUPLICATE_ID', 'SELF_DEPENDENCY', 'UNKNOWN_PARENT']);
  });

  it('reports a cycle of length 2, naming both jobs', () => {
    const jobs = [job('a', 'b'), job('b', 'a')];
    const problems = validateDag(jobs);
    expect(codes(problems)).toEqual(['CYCLE']);
    expect(cycleOf(problems[0] as DagProblem, jobs).sort()).toEqual(['a', 'b']);
  });

  it('reports a cycle of length 3 as "a -> b -> c -> a" up to rotation', () => {
    // b after a, c after b, a after c.
    const jobs = [job('a', 'c'), job('b', 'a'), job('c', 'b')];
    const problems = validateDag(jobs);
    expect(codes(problems)).toEqual(['CYCLE']);
    const rotations = ['a -> b -> c -> a', 'b -> c -> a -> b', 'c -> a -> b -> c'];
    expect(rotations.some((r) => problems[0]?.message.endsWith(r))).toBe(true);
    expect(cycleOf(problems[0] as DagProblem, jobs).sort()).toEqual(['a', 'b', 'c']);
  });

  it('names only the jobs in the cycle, not those upstream or downstream of it', () => {
    const jobs = [job('down', 'x'), job('root'), job('x', 'root', 'z'), job('y', 'x'), job('z', 'y'), job('down2', 'down')];
    const problems = validateDag(jobs);
    expect(codes(problems)).toEqual(['CYCLE']);
    expect(cycleOf(problems[0] as DagProblem, jobs).sort()).toEqual(['x', 'y', 'z']);
    expect(problems[0]?.message).not.toContain('root');
    expect(problems[0]?.message).not.toContain('down');
  });

  it('finds a long cycle', () => {
    const n = 50;
    const jobs = Array.from({ length: n }, (_, i) => job(`j${i}`, `j${(i + n - 1) % n}`));
    const problems = validateDag(jobs);
    expect(cycleOf(problems[0] as DagProblem, jobs)).toHaveLength(n);
  });

  it('accepts a diamond', () => {
    expect(validateDag([job('a'), job('b', 'a'), job('c', 'a'), job('d', 'b', 'c')])).toEqual([]);
  });

  it('accepts a parent listed twice', () => {
    expect(validateDag([job('a'), job('b', 'a', 'a')])).toEqual([]);
  });

  it('accepts jobs listed before their parents', () => {
    expect(validateDag([job('d', 'b', 'c'), job('c', 'a'), job('b', 'a'), job('a')])).toEqual([]);
  });

  describe('extension with existing jobs', () => {
    const existing = new Set(['old1', 'old2']);

    it('lets new jobs depend on existing ones', () => {
      expect(validateDag([job('n1', 'old1'), job('n2', 'n1', 'old2')], existing)).toEqual([]);
    });

    it('rejects a new job reusing an existing id', () => {
      const problems = validateDag([job('old1')], existing);
      expect(codes(problems)).toEqual(['DUPLICATE_ID']);
      expect(problems[0]?.message).toContain('old1');
    });

    it('still rejects unknown parents and cycles among the new jobs', () => {
      expect(codes(validateDag([job('n1', 'old3')], existing))).toEqual(['UNKNOWN_PARENT']);
      const jobs = [job('n1', 'old1', 'n2'), job('n2', 'n1')];
      const problems = validateDag(jobs, existing);
      expect(cycleOf(problems[0] as DagProblem, jobs).sort()).toEqual(['n1', 'n2']);
    });

    it('without `existing`, a parent from an earlier submission is unknown', () => {
      expect(codes(validateDag([job('n1', 'old1')]))).toEqual(['UNKNOWN_PARENT']);
    });
  });

  it('validates a 10,000-job chain', () => {
    const jobs = Array.from({ length: 10_000 }, (_, i) => (i === 0 ? job('j0') : job(`j${i}`, `j${i - 1}`)));
    expect(validateDag(jobs)).toEqual([]);
  });

  it('finds the cycle closing a 10,000-job chain', () => {
    const n = 10_000;
    const jobs = Array.from({ length: n }, (_, i) => job(`j${i}`, `j${(i + n - 1) % n}`));
    const problems = validateDag(jobs);
    expect(codes(problems)).toEqual(['CYCLE']);
    expect(cycleOf(problems[0] as DagProblem, jobs)).toHaveLength(n);
  });

  it('validates a 10,000-job fan-out and fan-in', () => {
    const mids = Array.from({ length: 10_000 }, (_, i) => job(`m${i}`, 'root'));
    const jobs = [job('root'), ...mids, job('sink', ...mids.map((m) => m.id))];
    expect(validateDag(jobs)).toEqual([]);
  });
});
