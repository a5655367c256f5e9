/** The pipeline YAML parser shared by the CLI and the master: the document it answers, and its errors. */
import { describe, expect, it } from 'vitest';
import { TitanError } from './errors.js';
import { parsePipelineYaml, PipelineYamlError, readPipelineYaml } from './pipeline-yaml.js';

function refusal(text: string, path = 'p.yaml'): PipelineYamlError {
  try {
    parsePipelineYaml(text, path);
  } catch (err) {
    expect(err).toBeInstanceOf(PipelineYamlError);
    return err as PipelineYamlError;
  }
  throw new Error(`expected ${path} to be refused:\n${text}`);
}

const PIPELINE = `name: etl
tags: [nightly, team=ml]
schedule: "0 9 * * *"
jobs:
  - id: extract
    file: scripts/extract.py
    args: "--rows 3 --name 'two words'"
    hitl_message: Load the rows?
    max_wait_seconds: 60
  - id: load
    file: ../shared/load.py
    depends_on: extract
    env: { MODE: fast, N: 3 }
  - id: check
    type: approval
    message: Ship it?
    depends_on: [load]
  - id: api
    file: api.js
    type: service
    port: 8080
    readiness: /health
`;

describe('parsePipelineYaml', () => {
  it('answers the pipeline with files as written and where they are', () => {
    const doc = parsePipelineYaml(PIPELINE, 'deploy/pipeline.yaml');
    expect(doc).toEqual({
      name: 'etl',
      tags: ['nightly', 'team=ml'],
      schedule: { cron: '0 9 * * *', timezone: 'UTC', overlap: 'skip', missed: 'run-once' },
      project: false,
      jobs: [
        {
          id: 'extract',
          file: 'scripts/extract.py',
          fileAt: 'deploy/pipeline.yaml:6:11',
          args: ['--rows', '3', '--name', 'two words'],
          dependsOn: [],
          requirement: 'GENERAL',
          priority: 1,
          delayMs: 0,
          affinity: 'none',
          env: {},
        },
        // The gate injected for hitl_message: an ordinary approval job right after its job.
        { id: 'hitl-gate-extract', kind: 'approval', message: 'Load the rows?', timeoutMs: 60_000, dependsOn: ['extract'] },
        {
          id: 'load',
          file: '../shared/load.py',
          fileAt: 'deploy/pipeline.yaml:11:11',
          args: [],
          // Rewired to the gate, so it waits for the decision.
          dependsOn: ['hitl-gate-extract'],
          requirement: 'GENERAL',
          priority: 1,
          delayMs: 0,
          affinity: 'none',
          env: { MODE: 'fast', N: '3' },
        },
        { id: 'check', kind: 'approval', message: 'Ship it?', dependsOn: ['load'], delayMs: 0, timeoutMs: 172_800_000 },
        {
          id: 'api',
          kind: 'service',
          service: { port: 8080, readiness: '/health' },
          file: 'api.js',
          fileAt: 'deploy/pipeline.yaml:19:11',
          args: [],
          dependsOn: [],
          requirement: 'GENERAL',
          priority: 1,
          delayMs: 0,
          affinity: 'none',
          env: {},
        },
      ],
    });
  });

  it('survives JSON as it is (what pipeline.parse sends)', () => {
    const doc = parsePipelineYaml(PIPELINE, 'p.yaml');
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it('carries the names of the secrets a job declares, and refuses names that are not environment variables', () => {
    const doc = parsePipelineYaml(`jobs:\n  - id: a\n    file: a.py\n    secrets: [OPENAI_API_KEY, DB_PASSWORD]\n  - id: b\n    file: b.py\n`, 'p.yaml');
    expect(doc.jobs[0]?.secrets).toEqual(['OPENAI_API_KEY', 'DB_PASSWORD']);
    expect(doc.jobs[1]).not.toHaveProperty('secrets');
    expect(() => parsePipelineYaml(`jobs:\n  - id: a\n    file: a.py\n    secrets: [not-a-name]\n`, 'p.yaml')).toThrow(/p\.yaml:4:\d+: "jobs\.0\.secrets\.0".*named like an environment variable/);
    expect(() => parsePipelineYaml(`jobs:\n  - id: a\n    file: a.py\n    secrets: [TITAN_TOKEN]\n`, 'p.yaml')).toThrow(/TITAN_ variables are set by the worker/);
  });

  it('defaults the name, the tags and the project flag, and leaves out the schedule', () => {
    const doc = parsePipelineYaml(`jobs:\n  - id: a\n    file: a.py\n`, 'p.yaml');
    expect(doc).toMatchObject({ name: 'pipeline', tags: [], project: false });
    expect(doc).not.toHaveProperty('schedule');
  });

  it('keeps project mode for the caller, which zips the folder', () => {
    const source = readPipelineYaml(`project: true\njobs:\n  - id: a\n    file: src/a.py\n    hitl_message: ok?\n  - id: b\n    file: b.py\n`, 'p.yaml');
    expect(source.doc.project).toBe(true);
    expect(source.doc.jobs.map((j) => j.file)).toEqual(['src/a.py', undefined, 'b.py']);
    expect(source).toMatchObject({ named: false, projectAt: 'p.yaml:1:10', yamlIndex: [0, null, 1] });
  });

  it('reads the schedule mapping form', () => {
    expect(parsePipelineYaml(`schedule:\n  cron: "*/5 * * * *"\n  timezone: Europe/Berlin\n  overlap: allow\njobs:\n  - id: a\n    file: a.py\n`, 'p.yaml').schedule).toEqual({
      cron: '*/5 * * * *',
      timezone: 'Europe/Berlin',
      overlap: 'allow',
      missed: 'run-once',
    });
  });

  it('refuses a typo at its line and column with the nearest key, as a BAD_REQUEST', () => {
    const err = refusal(`name: etl
jobs:
  - id: a
    file: a.py
  - id: b
    file: b.py
    depend_on: a
`, 'pipeline.yaml');
    expect(err.message).toBe('pipeline.yaml:7:5: unknown key "depend_on" (did you mean "depends_on"?)');
    expect(err).toBeInstanceOf(TitanError);
    expect(err.code).toBe('BAD_REQUEST');
  });

  it('refuses bad YAML, a non-mapping, bad args and an oversized text with their positions', () => {
    expect(refusal(`jobs: [\n`).message).toMatch(/^p\.yaml:\d+:\d+: invalid YAML: /);
    expect(refusal(`- a\n- b\n`).message).toBe('p.yaml: a pipeline is a mapping with "name" and "jobs"');
    expect(refusal(`jobs:\n  - id: a\n    file: a.py\n    args: "--name 'open"\n`).message).toBe(`p.yaml:4:11: "jobs.0.args" cannot be split into arguments: unclosed single quote at character 8`);
    expect(refusal(`jobs: []\n`).message).toBe('p.yaml:1:7: "jobs" a pipeline needs at least one job');
    expect(refusal(`jobs:\n  - id: a\n`).message).toBe('p.yaml: "jobs.0.file" is required for a run job');
    expect(refusal(`# ${'x'.repeat(4 * 1024 * 1024)}\n`).message).toBe('p.yaml: a pipeline file is limited to 4 MiB');
  });

  it('refuses aliases that expand past the limit ("billion laughs") at the first alias, and keeps a few', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((l, i) => `${l}: &${l} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)];
    const bomb = `name: bomb\nvars:\n${levels.map((l) => `  ${l}`).join('\n')}\njobs:\n  - id: a\n    file: a.py\n    args: *h\n`;
    const err = refusal(bomb);
    expect(err.message).toBe('p.yaml:4:10: the aliases (*name) expand to more than 100 copies of their anchors (nested anchors multiply); write the values out instead');
    expect(err.code).toBe('BAD_REQUEST');
    const reuse = parsePipelineYaml(`jobs:\n  - id: a\n    file: a.py\n    env: &env { MODE: fast }\n  - id: b\n    file: b.py\n    env: *env\n`, 'p.yaml');
    expect(reuse.jobs.map((j) => j.env)).toEqual([{ MODE: 'fast' }, { MODE: 'fast' }]);
  });
});

describe('singleton and debounce', () => {
  const ONE_JOB = 'name: push\njobs:\n  - id: a\n    file: a.sh\n';

  it('reads a singleton key and a debounce with its wait as a duration or in seconds, or as a bare duration keyed by the name', () => {
    expect(parsePipelineYaml(`${ONE_JOB}singleton: nightly-{tags.customer}\ndebounce: { key: "push-{name}", wait: 1m30s }\n`, 'p.yaml')).toMatchObject({ singleton: 'nightly-{tags.customer}', debounce: { key: 'push-{name}', waitMs: 90_000 } });
    expect(parsePipelineYaml(`${ONE_JOB}debounce: { key: k, wait: 2.5 }\n`, 'p.yaml').debounce).toEqual({ key: 'k', waitMs: 2_500 });
    expect(parsePipelineYaml(`${ONE_JOB}debounce: 30s\n`, 'p.yaml').debounce).toEqual({ key: '{name}', waitMs: 30_000 });
    const plain = parsePipelineYaml(ONE_JOB, 'p.yaml');
    expect([plain.singleton, plain.debounce]).toEqual([undefined, undefined]);
  });

  it('says where a wait or a key is wrong', () => {
    expect(refusal(`${ONE_JOB}debounce: { key: k, wait: soon }\n`).message).toBe('p.yaml:5:27: "debounce.wait" is not a duration: write it like 500ms, 30s, 10m, 2h, 1d or 1h30m (or a number of seconds)');
    expect(refusal(`${ONE_JOB}debounce: { key: k, wait: 2d }\n`).message).toBe('p.yaml:5:27: "debounce.wait" must be between 1ms and 24h');
    expect(refusal(`${ONE_JOB}debounce: { key: k }\n`).message).toBe('p.yaml: "debounce.wait" is required');
    expect(refusal(`${ONE_JOB}singleton: "a b"\n`).message).toBe('p.yaml:5:12: "singleton" a key contains only letters, digits and "_ . : = / -" once its {placeholders} are filled in');
    expect(refusal(`${ONE_JOB}singletn: x\n`).message).toBe('p.yaml:5:1: unknown key "singletn" (did you mean "singleton"?)');
  });
});

describe('notifications (on)', () => {
  const ONE_JOB = 'name: p\njobs:\n  - id: a\n    file: a.sh\n';

  it('reads the URLs per event', () => {
    const doc = parsePipelineYaml(`${ONE_JOB}on:\n  failure: https://hooks.slack.com/services/T/B/X\n  gate: http://10.0.0.5:8080/gates\n`, 'p.yaml');
    expect(doc.on).toEqual({ failure: 'https://hooks.slack.com/services/T/B/X', gate: 'http://10.0.0.5:8080/gates' });
    expect(parsePipelineYaml(ONE_JOB, 'p.yaml').on).toBeUndefined();
  });

  it('refuses a URL that is not http(s), an unknown event and a typo, naming the field and where it is', () => {
    expect(refusal(`${ONE_JOB}on:\n  failure: ftp://example.com/x\n`).message).toBe('p.yaml:6:12: "on.failure" must be an http or https URL, not ftp:');
    expect(refusal(`${ONE_JOB}on:\n  success: hooks.example.com\n`).message).toBe('p.yaml:6:12: "on.success" is not a URL: "hooks.example.com" (write it whole, e.g. https://hooks.example.com/titan)');
    expect(refusal(`${ONE_JOB}on:\n  failur: https://example.com\n`).message).toBe('p.yaml:6:3: unknown key "failur" (did you mean "failure"?)');
  });
});
