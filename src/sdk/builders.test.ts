import { describe, expect, expectTypeOf, it } from 'vitest';
import { JobSpecSchema } from '../core/model.js';
import { approval, durationMs, job, service, toJobInput } from './builders.js';
import type { JobInput, TitanClient } from './client.js';
import { BadRequestError } from './errors.js';

describe('job builders', () => {
  it('build a run job that reads like the pipeline', () => {
    const train = job('train', 'train.py').args('--epochs', 3, true).after('prep').after('fetch').requires('GPU').priority(5).retries(2).timeout('10m').delay('1.5s').affinity().env('MODE', 'fast').env({ SEED: 7 });
    expect(train.toJob()).toEqual({
      id: 'train',
      script: 'train.py',
      args: ['--epochs', '3', 'true'],
      dependsOn: ['prep', 'fetch'],
      requirement: 'GPU',
      priority: 5,
      retries: 2,
      timeoutMs: 600_000,
      delayMs: 1500,
      affinity: 'soft',
      env: { MODE: 'fast', SEED: '7' },
    });
    expect(job('a', 'a.py').affinity('required').toJob().affinity).toBe('required');
    expect(job('a', 'a.py').affinity(false).toJob().affinity).toBe('none');
  });

  it('declare secrets by name, once each, added to earlier calls', () => {
    const agent = job('agent', 'agent.py').secrets('OPENAI_API_KEY').secrets('DB_PASSWORD', 'OPENAI_API_KEY');
    expect(agent.toJob().secrets).toEqual(['OPENAI_API_KEY', 'DB_PASSWORD']);
    expect(job('plain', 'p.py').toJob()).not.toHaveProperty('secrets');
  });

  it('build a service with its settings', () => {
    expect(service('api', 'serve.py').port(8000).readiness('/health').readyTimeout('2m').restart('on-failure').crashLoopLimit(3).args('--port', '{port}').toJob()).toEqual({
      id: 'api',
      kind: 'service',
      script: 'serve.py',
      args: ['--port', '{port}'],
      service: { port: 8000, readiness: '/health', readyTimeoutMs: 120_000, restart: 'on-failure', crashLoopLimit: 3 },
    });
    expect(service('s', 's.py').toJob()).toEqual({ id: 's', kind: 'service', script: 's.py', service: {} });
  });

  it('build an approval gate', () => {
    expect(approval('ok', 'Ship it?').after('test').timeout('1h').toJob()).toEqual({ id: 'ok', kind: 'approval', message: 'Ship it?', dependsOn: ['test'], timeoutMs: 3_600_000 });
    expect(approval('bare').toJob()).toEqual({ id: 'bare', kind: 'approval' });
  });

  it('take scripts as content and archive entries', () => {
    expect(job('a', { name: 'a.py', content: 'print(1)' }).toJob().script).toEqual({ name: 'a.py', content: 'print(1)' });
    const content = Buffer.from('zip');
    const fromZip = job('b', { name: 'proj.zip', content, entry: 'src/b.py' }).toJob();
    expect(fromZip.archive).toEqual({ name: 'proj.zip', content, entry: 'src/b.py' });
    expect(fromZip.script).toBeUndefined();
    expect(job('c', { path: 'proj.zip', entry: 'c.py' }).toJob().archive).toEqual({ path: 'proj.zip', entry: 'c.py' });
  });

  it('produce specs the master accepts once scripts become refs', () => {
    for (const j of [job('t', 't.py').args('x').after('p').requires('GPU').retries(2).timeout('10m'), service('api', 's.py').port(8000).readiness('/health'), approval('ok', 'Ship?').after('t').timeout(5000)]) {
      const spec = j.toJob();
      const parsed = JobSpecSchema.safeParse({ ...spec, ...(spec.script !== undefined && { script: { name: 'x.py', sha256: 'a'.repeat(64) } }) });
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    }
  });

  it('hand out copies: changing the builder later does not change a job already built', () => {
    const b = job('a', 'a.py').args('1');
    const first = b.toJob();
    b.args('2').env('K', 'v');
    expect(first.args).toEqual(['1']);
    expect(first.env).toBeUndefined();
    expect(JSON.parse(JSON.stringify(b))).toMatchObject({ id: 'a', args: ['1', '2'] });
  });

  it('declare flow control as the JobSpec does, leaving defaults to the master', () => {
    expect(job('a', 'a.py').concurrency('openai', 4).rateLimit('openai', 60, 'minute', 10).toJob()).toMatchObject({
      concurrency: { key: 'openai', limit: 4 },
      rateLimit: { key: 'openai', limit: 60, per: 'minute', burst: 10 },
    });
    const bare = service('s', 's.py').concurrency('tenant-{tags.customer}').rateLimit('db', 5).toJob();
    expect(bare.concurrency).toEqual({ key: 'tenant-{tags.customer}' });
    expect(bare.rateLimit).toEqual({ key: 'db', limit: 5 });
    const b = job('c', 'c.py').concurrency('k', 1);
    const first = b.toJob();
    b.concurrency('k', 2);
    expect(first.concurrency).toEqual({ key: 'k', limit: 1 });
  });

  it('toJobInput takes a builder or a plain job', () => {
    const plain: JobInput = { id: 'p', script: 'p.py' };
    expect(toJobInput(plain)).toBe(plain);
    expect(toJobInput(job('p', 'p.py'))).toEqual(plain);
  });

  it('type-check against submit and extendRun, mixed with plain jobs', () => {
    type SubmitInput = Parameters<TitanClient['submit']>[0];
    const input = { name: 'mixed', tags: ['demo'], fairness: { key: 'tenant-{tags.customer}', weight: 2 }, jobs: [job('a', 'a.py'), { id: 'b', script: 'b.py', dependsOn: ['a'] }, approval('ok').after('b'), service('api', 'api.py').after('ok')] };
    expectTypeOf(input).toExtend<SubmitInput>();
    expectTypeOf([job('x', 'x.py')]).toExtend<Parameters<TitanClient['extendRun']>[0]>();
  });
});

describe('durationMs', () => {
  it.each([
    [0, 0],
    [1500, 1500],
    ['500ms', 500],
    ['30s', 30_000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    [' 5s ', 5000],
  ])('%j → %d ms', (text, ms) => {
    expect(durationMs(text)).toBe(ms);
  });

  it.each(['', '10', '5 min', 'm5', '-1s', '1h 30m'])('refuses %j', (text) => {
    expect(() => durationMs(text)).toThrow(BadRequestError);
  });

  it('refuses a negative or non-finite number', () => {
    expect(() => durationMs(-1)).toThrow(BadRequestError);
    expect(() => durationMs(Number.NaN)).toThrow(BadRequestError);
  });
});
