import { describe, expect, it } from 'vitest';
import { matchPattern, matchRoute, pathOf, safeNext, sectionOf } from './routes.ts';

describe('routes', () => {
  it('matches every page', () => {
    expect(matchRoute('/')).toEqual({ name: 'overview', params: {} });
    expect(matchRoute('/login').name).toBe('login');
    expect(matchRoute('/runs').name).toBe('runs');
    expect(matchRoute('/runs/').name).toBe('runs');
    expect(matchRoute('/runs/r-42')).toEqual({ name: 'run', params: { runId: 'r-42' } });
    expect(matchRoute('/agent-runs').name).toBe('agentRuns');
    expect(matchRoute('/agent-runs/a.1')).toEqual({ name: 'agentRun', params: { id: 'a.1' } });
    for (const p of ['approvals', 'services', 'schedules', 'store', 'artifacts', 'workers', 'constructor', 'audit']) expect(matchRoute(`/${p}`).name).not.toBe('notFound');
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
});
