import { afterEach, describe, expect, it } from 'vitest';
import { PipelineParser } from './pipeline-parser.js';

const SMALL = 'name: small\njobs:\n  - id: a\n    file: a.py\n  - id: b\n    file: b.py\n    depends_on: [a]\n';

/** A valid pipeline of about `bytes` characters: a chain of jobs. */
function big(bytes: number): string {
  const parts = ['name: big\njobs:\n'];
  let size = parts[0]?.length ?? 0;
  for (let i = 0; size < bytes; i++) {
    const job = `  - id: j${i}\n    file: a.py\n    args: [one, two, three]\n${i > 0 ? `    depends_on: [j${i - 1}]\n` : ''}`;
    parts.push(job);
    size += job.length;
  }
  return parts.join('');
}

let parser: PipelineParser | null = null;
afterEach(async () => {
  await parser?.close();
  parser = null;
});

describe('PipelineParser', () => {
  it('parses on its thread and answers with the document and positions', async () => {
    parser = new PipelineParser();
    const { doc, yamlIndex } = await parser.read(SMALL, 'p.yaml');
    expect(doc.name).toBe('small');
    expect(doc.jobs.map((j) => [j.id, j.file, j.dependsOn])).toEqual([
      ['a', 'a.py', []],
      ['b', 'b.py', ['a']],
    ]);
    expect(yamlIndex).toEqual([0, 1]);
  });

  it('passes on the positioned error of an invalid pipeline, and refuses deep nesting at once', async () => {
    parser = new PipelineParser();
    await expect(parser.read('name: x\njobs:\n  - id: a\n    depend_on: [b]\n', 'p.yaml')).rejects.toThrow(/p\.yaml:4:5: unknown key "depend_on"/);
    const started = Date.now();
    await expect(parser.read(`jobs: ${'['.repeat(1_000_000)}`, 'deep.yaml')).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/deep\.yaml:1: collections are nested more than 64 deep/) });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops a parse that takes too long, keeps the event loop free meanwhile, and parses the next text on a new thread', async () => {
    parser = new PipelineParser({ timeoutMs: 300, heapMb: 512, queue: 4 });
    const text = big(3 * 1024 * 1024);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    const started = Date.now();
    try {
      await expect(parser.read(text, 'big.yaml')).rejects.toThrow(/big\.yaml: parsing took longer than 0\.3 s/);
    } finally {
      clearInterval(ticker);
    }
    const elapsed = Date.now() - started;
    // Most 20 ms ticks happened while the thread parsed: the loop was never held for long.
    expect(ticks).toBeGreaterThan(elapsed / 20 / 3);
    expect((await parser.read(SMALL, 'p.yaml')).doc.name).toBe('small');
  });

  it('refuses texts beyond its queue with UNAVAILABLE, and what is queued still gets its answer', async () => {
    parser = new PipelineParser({ timeoutMs: 10_000, heapMb: 512, queue: 2 });
    await parser.read(SMALL, 'warm-up.yaml');
    // One is parsed at once, two wait, the fourth is refused.
    const replies = Array.from({ length: 4 }, () => parser?.read(SMALL, 'p.yaml').then((r) => r.doc.name, (e: Error) => e.message));
    const results = await Promise.all(replies);
    expect(results.filter((r) => r === 'small')).toHaveLength(3);
    expect(results.filter((r) => /already waiting to be parsed/.test(r ?? ''))).toHaveLength(1);
  });

  it('refuses a text that needs more memory than the thread has, and goes on', async () => {
    parser = new PipelineParser({ timeoutMs: 60_000, heapMb: 16, queue: 4 });
    await expect(parser.read(big(4 * 1024 * 1024 - 1024), 'huge.yaml')).rejects.toThrow(/huge\.yaml: the pipeline could not be parsed within the parser's limits/);
    expect((await parser.read(SMALL, 'p.yaml')).doc.name).toBe('small');
  }, 90_000);
});
