import { delimiter } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Dispatch } from '../protocol/methods.js';
import { baseEnvironment, JobEnvironment, PassEnvSchema, passes, PYTHON_SDK_DIR } from './job-env.js';

const WORKER_ENV = {
  PATH: '/usr/bin:/bin',
  HOME: '/root',
  USER: 'root',
  LANG: 'C.UTF-8',
  LC_TIME: 'de_DE.UTF-8',
  TZ: 'UTC',
  PYTHONPATH: '/opt/lib',
  TITAN_TOKEN: 'the-cluster-token',
  TITAN_KEY: '/etc/titan/worker.key',
  TITAN_DATA_DIR: '/var/lib/titan',
  DATABASE_PASSWORD: 'hunter2',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  AWS_REGION: 'eu-west-1',
  CUDA_VISIBLE_DEVICES: '0,1',
};

const nobody = { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent' };

const dispatch = (extra: Partial<Dispatch> = {}): Dispatch => ({ runId: 'r1', jobId: 'j1', attempt: 2, args: [], env: {}, timeoutMs: null, token: 'job.r1/j1/2.mac', ...extra });

describe('the base environment of a job', () => {
  it('keeps only the allow-listed variables of the worker', () => {
    const env = baseEnvironment(WORKER_ENV, { passEnv: [], user: null, pythonSdkDir: null });
    expect(env).toEqual({ PATH: '/usr/bin:/bin', HOME: '/root', USER: 'root', LANG: 'C.UTF-8', LC_TIME: 'de_DE.UTF-8', TZ: 'UTC', PYTHONPATH: '/opt/lib' });
  });

  it('passes what --pass-env names, by name or by prefix, and never a TITAN_ variable', () => {
    const env = baseEnvironment(WORKER_ENV, { passEnv: ['CUDA_VISIBLE_DEVICES', 'AWS_*', 'TI*'], user: null, pythonSdkDir: null });
    expect(env.CUDA_VISIBLE_DEVICES).toBe('0,1');
    expect(env.AWS_REGION).toBe('eu-west-1');
    expect(env.AWS_SECRET_ACCESS_KEY).toBe('aws-secret');
    expect(env.DATABASE_PASSWORD).toBeUndefined();
    expect(Object.keys(env).filter((k) => k.startsWith('TITAN_'))).toEqual([]);
    expect(passes('titan_token', ['titan_*'])).toBe(false);
  });

  it("names the job's user in HOME, USER and LOGNAME when jobs run as another", () => {
    const env = baseEnvironment(WORKER_ENV, { passEnv: [], user: nobody, pythonSdkDir: null });
    expect([env.HOME, env.USER, env.LOGNAME]).toEqual(['/nonexistent', 'nobody', 'nobody']);
  });

  it("puts the Python SDK first on the worker's PYTHONPATH", () => {
    expect(baseEnvironment(WORKER_ENV, { passEnv: [], user: null, pythonSdkDir: '/sdk' }).PYTHONPATH).toBe(['/sdk', '/opt/lib'].join(delimiter));
    expect(baseEnvironment({}, { passEnv: [], user: null, pythonSdkDir: '/sdk' }).PYTHONPATH).toBe('/sdk');
  });
});

describe('--pass-env entries', () => {
  it('are names or prefixes ending in *, never everything or a TITAN_ variable', () => {
    for (const ok of ['AWS_REGION', 'AWS_*', 'http_proxy', '_X']) expect(PassEnvSchema.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['*', 'TITAN_TOKEN', 'TITAN_*', 'titan_key', 'A-B', '1X', 'A*B', '']) expect(PassEnvSchema.safeParse(bad).success, bad).toBe(false);
    expect(PassEnvSchema.safeParse('*').error?.issues[0]?.message).toMatch(/^a lone \* would hand jobs the whole environment again/);
  });
});

describe('a job environment', () => {
  const master = { host: '10.0.0.2', port: 9090 };

  it("carries the attempt's own token and ids, never the worker's token, and lets the job's env override the base", () => {
    const jobs = new JobEnvironment([master], null, { user: null, passEnv: [] }, WORKER_ENV);
    const env = jobs.for(dispatch({ env: { LANG: 'fr_FR.UTF-8', TITAN_TOKEN: 'forged', MINE: '1' } }), { shared: '/w/runs/r1/shared', output: '/w/runs/r1/j1.2/out' }, 'host:8080');
    expect(env).toMatchObject({ TITAN_TOKEN: 'job.r1/j1/2.mac', TITAN_HOST: '10.0.0.2', TITAN_PORT: '9090', TITAN_RUN_ID: 'r1', TITAN_JOB_ID: 'j1', TITAN_ATTEMPT: '2', TITAN_SHARED_DIR: '/w/runs/r1/shared', TITAN_OUTPUT_DIR: '/w/runs/r1/j1.2/out', TITAN_WORKER_ID: 'host:8080', LANG: 'fr_FR.UTF-8', MINE: '1' });
    expect(Object.values(env)).not.toContain('the-cluster-token');
    expect(env.DATABASE_PASSWORD).toBeUndefined();
    expect(env.TITAN_TLS).toBeUndefined();
    expect(env.PYTHONPATH?.split(delimiter)[0]).toBe(PYTHON_SDK_DIR ?? '/opt/lib');
  });

  it("trusts the worker's CA over TLS but never gets the worker's client key", () => {
    const jobs = new JobEnvironment([master], { ca: '/etc/titan/ca.pem', cert: '/etc/titan/worker.pem', key: '/etc/titan/worker.key' }, { user: null, passEnv: [] }, WORKER_ENV);
    const env = jobs.for(dispatch(), { shared: '/s', output: '/o' }, null);
    expect(env).toMatchObject({ TITAN_TLS: '1', TITAN_CA: '/etc/titan/ca.pem' });
    expect(env.TITAN_CERT).toBeUndefined();
    expect(env.TITAN_KEY).toBeUndefined();
  });

  it('presents the job certificate under mutual TLS when one is configured', () => {
    const jobs = new JobEnvironment([master], { ca: '/ca.pem', cert: '/worker.pem', key: '/worker.key' }, { user: null, passEnv: [], cert: { cert: '/jobs.pem', key: '/jobs.key' } }, WORKER_ENV);
    expect(jobs.for(dispatch(), { shared: '/s', output: '/o' }, null)).toMatchObject({ TITAN_CA: '/ca.pem', TITAN_CERT: '/jobs.pem', TITAN_KEY: '/jobs.key' });
  });
});
