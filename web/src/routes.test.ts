import { describe, expect, it } from 'vitest';
import { matchPattern, matchRoute, pathOf, safeNext, sectionOf, titanDagNames, titanJobId } from './routes.ts';

describe('routes', () => {
  it('matches every page', () => {
    expect(matchRoute('/')).toEqual({ name: 'overview', params: {} });
    expect(matchRoute('/login').name).toBe('login');
    expect(matchRoute('/runs').name).toBe('runs');
    expect(matchRoute('/runs/').name).toBe('runs');
    expect(matchRoute('/runs/r-42')).toEqual({ name: 'run', params: { runId: 'r-42' } });
    expect(matchRoute('/agent-runs').name).toBe('agentRuns');
    expect(matchRoute('/agent-runs/a.1')).toEqual({ name: 'agentRun', params: { id: 'a.1' } });
    for (const p of ['approvals', 'services', 'schedules', 'triggers', 'store', 'artifacts', 'workers', 'queue', 'constructor', 'audit', 'access']) expect(matchRoute(`/${p}`).name).not.toBe('notFound');
  });

  it('decodes parameters and rejects what does not fit', () => {
    expect(matchRoute('/runs/a%20b').params.runId).toBe('a b');
    expect(matchRoute('/runs/a/b').name).toBe('notFound');
    expect(matchRoute('/nope').name).toBe('notFound');
    expect(matchPattern('/runs/:runId', '/runs/%E0%A4%A')).toBeNull();
  });

  it('builds paths with escaped parameters', () => {
    expect(pathOf('run', { runId: 'x/y' })).toBe('/runs/x%2Fy');
    expect(pathOf('overview')).toBe('/');
    expect(() => pathOf('run')).toThrow();
  });

  it('finds the sidebar section and keeps login redirects local', () => {
    expect(sectionOf('/runs/abc')).toBe('/runs');
    expect(sectionOf('/')).toBe('/');
    expect(safeNext('/runs?status=FAILED')).toBe('/runs?status=FAILED');
    expect(safeNext('//evil.example')).toBe('/');
    expect(safeNext('https://evil.example')).toBe('/');
    expect(safeNext('/\\evil.example')).toBe('/');
    expect(safeNext('/login?next=/x')).toBe('/');
    expect(safeNext(null)).toBe('/');
  });

  it("sends Titan's dashboard addresses to the matching pages", () => {
    expect(matchRoute('/dags')).toEqual({ name: 'redirect', params: { to: '/runs' } });
    expect(matchRoute('/dags/')).toEqual({ name: 'redirect', params: { to: '/runs' } });
    expect(matchRoute('/dags/new')).toEqual({ name: 'redirect', params: { to: '/constructor' } });
    expect(matchRoute('/dags/new/')).toEqual({ name: 'redirect', params: { to: '/constructor' } });
    expect(matchRoute('/agents')).toEqual({ name: 'redirect', params: { to: '/agent-runs' } });
    expect(matchRoute('/dags/DAG-ml-pipeline')).toEqual({ name: 'titanDag', params: { dagId: 'DAG-ml-pipeline' } });
    expect(matchRoute('/dags/r1a2b3c')).toEqual({ name: 'titanDag', params: { dagId: 'r1a2b3c' } });
    expect(matchRoute('/dags/DAG-a%20b').params.dagId).toBe('DAG-a b');
    // Titan had no page below these.
    for (const p of ['/dags/x/y', '/agents/a1', '/dags/new/x']) expect(matchRoute(p).name, p).toBe('notFound');
  });

  it("reads Titan's dag ids as pipeline names and its job ids as ours", () => {
    expect(titanDagNames('DAG-ml-pipeline')).toEqual(['ml-pipeline', 'DAG-ml-pipeline']);
    expect(titanDagNames('ml-pipeline')).toEqual(['ml-pipeline']);
    expect(titanDagNames('DAG-')).toEqual(['DAG-']);
    const jobs = ['prepare', 'DAG-odd', 'train'];
    expect(titanJobId('DAG-train', jobs)).toBe('train');
    expect(titanJobId('train', jobs)).toBe('train');
    // A job whose own id starts with DAG- keeps it; an unknown one is left for the run page to report.
    expect(titanJobId('DAG-odd', jobs)).toBe('DAG-odd');
    expect(titanJobId('DAG-nothing', jobs)).toBe('DAG-nothing');
    expect(titanJobId('nothing', jobs)).toBe('nothing');
  });
});
