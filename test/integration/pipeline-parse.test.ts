/**
 * `pipeline.parse` against a real master: the structured pipeline for good YAML (files left for
 * the client, as a client without a YAML library would use it), the positioned BAD_REQUEST for a
 * typo, and the size limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TitanError } from '../../src/core/errors.js';
import type { JobInput, TitanClient } from '../../src/sdk/client.js';
import { Cluster } from '../helpers/cluster.js';

const GOOD = `name: parsed
tags: [from-sdk]
jobs:
  - id: hello
    file: scripts/hello.sh
    args: "one 'two words'"
  - id: after
    file: after.sh
    depends_on: hello
`;

const TYPO = `name: parsed
jobs:
  - id: a
    file: a.sh
  - id: b
    file: b.sh
    depend_on: a
`;

/** The code and message of the error `p` rejects with. */
async function failure(p: Promise<unknown>): Promise<TitanError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TitanError);
    return err as TitanError;
  }
  throw new Error('expected a refusal');
}

describe('pipeline.parse', () => {
  const cluster = new Cluster();
  let client: TitanClient;

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
    client = cluster.client();
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('answers the pipeline for good YAML, files as written', async () => {
    const { pipeline } = await client.call('pipeline.parse', { text: GOOD, path: 'deploy/pipeline.yaml' });
    expect(pipeline).toMatchObject({ name: 'parsed', tags: ['from-sdk'], project: false });
    expect(pipeline).not.toHaveProperty('schedule');
    expect(pipeline.jobs).toEqual([
      expect.objectContaining({ id: 'hello', file: 'scripts/hello.sh', fileAt: 'deploy/pipeline.yaml:5:11', args: ['one', 'two words'], dependsOn: [] }),
      expect.objectContaining({ id: 'after', file: 'after.sh', fileAt: 'deploy/pipeline.yaml:8:11', dependsOn: ['hello'] }),
    ]);
    // The SDK method gives the same document; the path defaults to pipeline.yaml.
    const doc = await client.parsePipeline(GOOD);
    expect(doc).toEqual({ ...pipeline, jobs: pipeline.jobs.map((j) => ({ ...j, fileAt: j.fileAt?.replace('deploy/pipeline.yaml', 'pipeline.yaml') })) });
  });

  it('gives a document that runs once the client supplies the files', async () => {
    const doc = await client.parsePipeline(GOOD);
    const content: Record<string, string> = { 'scripts/hello.sh': 'echo "hello $1|$2"\n', 'after.sh': 'echo after\n' };
    const jobs: JobInput[] = doc.jobs.map(({ file, fileAt: _at, ...job }) => (file === undefined ? job : { ...job, script: { name: file.split('/').pop() as string, content: content[file] as string } }));
    const { runId } = await client.submit({ name: doc.name, tags: doc.tags, jobs });
    const view = await client.waitForRun(runId);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.run.tags).toEqual(['from-sdk']);
    expect(await client.logs(`${runId}/hello`)).toContain('hello one|two words');
  });

  it('refuses a typo with a BAD_REQUEST at its line and column, with the nearest key', async () => {
    const err = await failure(client.call('pipeline.parse', { text: TYPO }));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toBe('pipeline.yaml:7:5: unknown key "depend_on" (did you mean "depends_on"?)');
    const viaSdk = await failure(client.parsePipeline(TYPO, 'ci/p.yaml'));
    expect(viaSdk).toMatchObject({ code: 'BAD_REQUEST', message: 'ci/p.yaml:7:5: unknown key "depend_on" (did you mean "depends_on"?)' });
  });

  it('refuses a text over 4 MiB, and keeps serving', async () => {
    const text = `# ${'x'.repeat(5 * 1024 * 1024)}\n${GOOD}`;
    const err = await failure(client.parsePipeline(text));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toMatch(/^invalid parameters for pipeline\.parse: text: /);
    expect((await client.parsePipeline(GOOD)).name).toBe('parsed');
  });
});
