/** Pipeline YAML: args in Titan's string form, run tags, and project mode (`project: true`). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import type { ArchiveSource } from '../sdk/client.js';
import { loadPipeline, parsePipeline, PipelineError } from './pipeline.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh folder holding `files`; returns its path. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'titan-pipeline-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PipelineError);
    return (err as Error).message;
  }
  throw new Error('expected a PipelineError');
}

describe('pipeline YAML: args as a string', () => {
  it('splits Titan-style args like a shell, quotes and escapes honoured', () => {
    const run = parsePipeline(`jobs:\n  - id: a\n    file: a.py\n    args: "--epochs 3 --name 'two words' --msg \\"say \\\\\\"hi\\\\\\"\\" a\\\\ b"\n`, 'p.yaml');
    expect(run.jobs[0]?.args).toEqual(['--epochs', '3', '--name', 'two words', '--msg', 'say "hi"', 'a b']);
  });

  it('keeps the list form as it is and an empty string as no arguments', () => {
    const run = parsePipeline(`jobs:\n  - id: a\n    file: a.py\n    args: ["a b", 3]\n  - id: b\n    file: b.py\n    args: ""\n`, 'p.yaml');
    expect(run.jobs.map((j) => j.args)).toEqual([['a b', '3'], []]);
  });

  it('refuses an unclosed quote at the args line', () => {
    expect(refusal(() => parsePipeline(`jobs:\n  - id: a\n    file: a.py\n    args: "--name 'open"\n`, 'p.yaml'))).toBe(`p.yaml:4:11: "jobs.0.args" cannot be split into arguments: unclosed single quote at character 8`);
  });
});

describe('pipeline YAML: tags', () => {
  it('passes tags to the run', () => {
    expect(parsePipeline(`tags: [nightly, team=ml]\njobs:\n  - id: a\n    file: a.py\n`, 'p.yaml').tags).toEqual(['nightly', 'team=ml']);
    expect(parsePipeline(`jobs:\n  - id: a\n    file: a.py\n`, 'p.yaml').tags).toBeUndefined();
  });

  it('refuses a malformed tag where it is', () => {
    expect(refusal(() => parsePipeline(`tags: [ok, "not ok"]\njobs:\n  - id: a\n    file: a.py\n`, 'p.yaml'))).toMatch(/^p\.yaml:1:12: "tags\.1" a tag contains only/);
  });
});

describe('pipeline YAML: project mode', () => {
  const PIPELINE = `name: demo project
project: true
jobs:
  - id: prep
    file: ./scripts/prep.py
    args: "--rows 3"
  - id: gate
    type: approval
    depends_on: prep
  - id: train
    file: src\\\\train.py
    depends_on: gate
`;
  const files = {
    'pipeline.yaml': PIPELINE,
    'scripts/prep.py': 'print("prep")\n',
    'src/train.py': 'print("train")\n',
    'src/model.py': 'M = 1\n',
    'data/big.bin': 'xxxx',
    '.env': 'SECRET=1',
    '.titanignore': 'data/\n',
  };

  it('zips the folder once and runs each file from the archive', () => {
    const dir = folder(files);
    const run = loadPipeline(join(dir, 'pipeline.yaml'));
    const [prep, gate, train] = run.jobs;
    const a = prep?.archive as ArchiveSource & { content: Buffer };
    expect(prep?.script).toBeUndefined();
    expect(a).toMatchObject({ name: 'demo_project.zip', entry: 'scripts/prep.py' });
    expect(prep?.args).toEqual(['--rows', '3']);
    expect(gate).toMatchObject({ id: 'gate', kind: 'approval' });
    expect(gate?.archive).toBeUndefined();
    // One zip for all jobs: the same content object, so it is hashed and uploaded once.
    expect((train?.archive as { content: Buffer; entry: string }).content).toBe(a.content);
    expect((train?.archive as { entry: string }).entry).toBe('src/train.py');
    expect(Object.keys(unzipSync(a.content))).toEqual(['.titanignore', 'pipeline.yaml', 'scripts/prep.py', 'src/model.py', 'src/train.py']);
    // The same folder gives the same bytes.
    expect((loadPipeline(join(dir, 'pipeline.yaml')).jobs[0]?.archive as { content: Buffer }).content.equals(a.content)).toBe(true);
  });

  it('names the zip after the folder when the pipeline has no name', () => {
    const dir = folder({ ...files, 'pipeline.yaml': PIPELINE.replace('name: demo project\n', '') });
    expect((loadPipeline(join(dir, 'pipeline.yaml')).jobs[0]?.archive as { name: string }).name).toBe(`${basename(dir)}.zip`);
  });

  it('refuses a file outside the folder, missing, or left out, at its line', () => {
    const path = (dir: string): string => join(dir, 'pipeline.yaml');
    const outside = folder({ ...files, 'pipeline.yaml': PIPELINE.replace('./scripts/prep.py', '../prep.py') });
    expect(refusal(() => loadPipeline(path(outside)))).toBe(`${path(outside)}:5:11: "jobs.0.file" must be a file inside the project folder ${outside}, got ../prep.py`);
    const missing = folder({ ...files, 'pipeline.yaml': PIPELINE.replace('./scripts/prep.py', 'scripts/nope.py') });
    expect(refusal(() => loadPipeline(path(missing)))).toBe(`${path(missing)}:5:11: "jobs.0.file" scripts/nope.py names no file in the project folder`);
    const ignored = folder({ ...files, 'pipeline.yaml': PIPELINE.replace('./scripts/prep.py', 'data/big.bin') });
    expect(refusal(() => loadPipeline(path(ignored)))).toMatch(new RegExp(`^${path(ignored)}:5:11: "jobs.0.file" data/big.bin is left out of the project zip \\(by \\.titanignore`));
  });

  it('refuses a folder over the limits at the project key', () => {
    const many: Record<string, string> = { ...files };
    for (let i = 0; i <= 10_000; i++) many[`gen/f${i}.txt`] = '';
    const dir = folder(many);
    expect(refusal(() => loadPipeline(join(dir, 'pipeline.yaml')))).toMatch(/pipeline\.yaml:2:10: the project folder .* has more than 10000 files; leave out what the jobs do not need with \.titanignore/);
  });

  it('is refused where the folder is not read (parsePipeline without readProject)', () => {
    expect(refusal(() => parsePipeline(PIPELINE, 'p.yaml'))).toBe(`p.yaml:2:10: project mode zips the pipeline's folder, which is not read here; submit it with "titan submit", or set "project: false"`);
  });

  it('accepts project: false as before, with scripts read one by one', () => {
    const run = parsePipeline(`project: false\njobs:\n  - id: a\n    file: a.py\n`, '/x/p.yaml');
    expect(run.jobs[0]?.script).toBe('/x/a.py');
  });
});
