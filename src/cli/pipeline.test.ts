import { describe, expect, it } from 'vitest';
import { parsePipeline, PipelineError } from './pipeline.js';

/** The error parsePipeline throws for `text`; fails the test if it parses. */
function refusal(text: string): PipelineError {
  try {
    parsePipeline(text, 'p.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(PipelineError);
    return err as PipelineError;
  }
  throw new Error(`expected p.yaml to be refused:\n${text}`);
}

describe('pipeline YAML: service fields', () => {
  it('maps type, port, readiness, ready_timeout, restart and crash_loop_limit to a service job', () => {
    const run = parsePipeline(
      `name: svc
jobs:
  - id: api
    file: api.py
    type: service
    port: 18080
    readiness: /health
    ready_timeout: 2.5
    restart: on-failure
    crash_loop_limit: 4
    args: ["--port", "{port}"]
  - id: client
    file: client.py
    depends_on: api
`,
      'p.yaml',
    );
    const [api, client] = run.jobs;
    expect(api).toMatchObject({
      id: 'api',
      kind: 'service',
      service: { port: 18080, readiness: '/health', readyTimeoutMs: 2500, restart: 'on-failure', crashLoopLimit: 4 },
      args: ['--port', '{port}'],
    });
    expect(api?.timeoutMs).toBeUndefined();
    // A plain job stays a run job without service settings.
    expect(client?.kind).toBeUndefined();
    expect(client?.service).toBeUndefined();
    expect(client?.dependsOn).toEqual(['api']);
  });

  it('leaves unset service fields to the defaults (an empty service block) and accepts tcp and none', () => {
    const run = parsePipeline(
      `jobs:
  - id: a
    file: a.py
    type: service
  - id: b
    file: b.py
    type: service
    readiness: none
    restart: never
  - id: c
    file: c.py
    type: service
    readiness: tcp
`,
      'p.yaml',
    );
    expect(run.jobs.map((j) => [j.kind, j.service])).toEqual([
      ['service', {}],
      ['service', { readiness: 'none', restart: 'never' }],
      ['service', { readiness: 'tcp' }],
    ]);
  });

  it('refuses a port on a run job, naming the key and saying it is for services', () => {
    const err = refusal(`jobs:
  - id: job
    file: job.py
    port: 8080
`);
    expect(err.message).toContain('p.yaml:4:');
    expect(err.message).toContain('"jobs.0.port"');
    expect(err.message).toContain('applies only to a job of type "service"');
  });

  it('refuses the other service keys on a run job too', () => {
    for (const line of ['readiness: tcp', 'ready_timeout: 5', 'restart: always', 'crash_loop_limit: 2']) {
      const key = line.split(':')[0] as string;
      const err = refusal(`jobs:\n  - id: job\n    file: job.py\n    ${line}\n`);
      expect(err.message).toContain(key);
      expect(err.message).toContain('service');
    }
  });

  it('refuses a timeout on a service and points to ready_timeout', () => {
    const err = refusal(`jobs:
  - id: api
    file: api.py
    type: service
    timeout: 30
`);
    expect(err.message).toContain('p.yaml:5:');
    expect(err.message).toContain('"jobs.0.timeout"');
    expect(err.message).toContain('does not apply to a service');
    expect(err.message).toContain('ready_timeout');
  });

  it('refuses a readiness that is neither tcp, none nor an HTTP path', () => {
    for (const value of ['http', 'health', '"/with space"']) {
      const err = refusal(`jobs:
  - id: api
    file: api.py
    type: service
    readiness: ${value}
`);
      expect(err.message).toContain('p.yaml:5:');
      expect(err.message).toContain('"jobs.0.readiness"');
      expect(err.message).toContain('starts with "/"');
    }
  });

  it('refuses an unknown restart policy and out-of-range service numbers', () => {
    expect(refusal(`jobs:\n  - id: api\n    file: api.py\n    type: service\n    restart: sometimes\n`).message).toContain('restart');
    expect(refusal(`jobs:\n  - id: api\n    file: api.py\n    type: service\n    port: 70000\n`).message).toContain('port');
    expect(refusal(`jobs:\n  - id: api\n    file: api.py\n    type: service\n    crash_loop_limit: 0\n`).message).toContain('crash_loop_limit');
    expect(refusal(`jobs:\n  - id: api\n    file: api.py\n    type: service\n    ready_timeout: 0\n`).message).toContain('ready_timeout');
  });

  it('suggests restart for the typo restrat', () => {
    const err = refusal(`jobs:
  - id: api
    file: api.py
    type: service
    restrat: always
`);
    expect(err.message).toContain('p.yaml:5:');
    expect(err.message).toContain('unknown key "restrat"');
    expect(err.message).toContain('did you mean "restart"?');
  });

  it('requires a file for a service', () => {
    const err = refusal(`jobs:\n  - id: api\n    type: service\n`);
    expect(err.message).toContain('file');
    expect(err.message).toContain('service');
  });
});
