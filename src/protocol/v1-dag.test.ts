import { describe, expect, it } from 'vitest';
import { LIMITS } from '../core/model.js';
import { parseV1Dag, parseV1Job, stripDagPrefix, type V1Job, V1DagError } from './v1-dag.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const PRINT1 = 'cHJpbnQoMSkK'; // print(1)\n
const ZIP = 'titan-comprehensive-test.zip';

/** The defaults of a job, overridden per test. */
const job = (over: Partial<V1Job> & Pick<V1Job, 'id' | 'source'>): V1Job => ({
  kind: 'run',
  args: [],
  port: null,
  requirement: 'GENERAL',
  priority: 1,
  delayMs: 0,
  dependsOn: [],
  affinity: false,
  ...over,
});

/** Runs `fn`, expects a V1DagError and returns its message. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(V1DagError);
    return (err as Error).message;
  }
  throw new Error('expected a V1DagError');
}

/** A valid RUN_PAYLOAD line for `id` with the given parents. */
const run = (id: string, parents = ''): string => `${id}|RUN_PAYLOAD|${id}.py||${PRINT1}|GENERAL|1|0|[${parents}]`;

describe('parseV1Dag: the test vectors of section 12', () => {
  it('TV-1: YAML project mode (archive runs, args, priority, delay, affinity, archive service)', () => {
    const payload =
      `step-1-init|RUN_ARCHIVE|${ZIP}/scripts/init.py|--mode reset|GENERAL|10|0|[] ; ` +
      `step-2-fetch|RUN_ARCHIVE|${ZIP}/src/processor.py|FETCH|GENERAL|1|2000|[step-1-init] ; ` +
      `step-3-process|RUN_ARCHIVE|${ZIP}/src/processor.py|PROCESS_DATA|GENERAL|1|0|[step-2-fetch]|AFFINITY ; ` +
      `step-4-server|START_ARCHIVE_SERVICE|${ZIP}/src/server.py||9000|GENERAL|1|0|[step-3-process]`;
    expect(Buffer.byteLength(payload)).toBe(445);
    expect(parseV1Dag(payload)).toEqual([
      job({ id: 'step-1-init', source: { type: 'archive', zip: ZIP, entry: 'scripts/init.py' }, args: ['--mode', 'reset'], priority: 10 }),
      job({ id: 'step-2-fetch', source: { type: 'archive', zip: ZIP, entry: 'src/processor.py' }, args: ['FETCH'], delayMs: 2000, dependsOn: ['step-1-init'] }),
      job({ id: 'step-3-process', source: { type: 'archive', zip: ZIP, entry: 'src/processor.py' }, args: ['PROCESS_DATA'], dependsOn: ['step-2-fetch'], affinity: true }),
      job({ id: 'step-4-server', kind: 'service', source: { type: 'archive', zip: ZIP, entry: 'src/server.py' }, port: 9000, dependsOn: ['step-3-process'] }),
    ]);
  });

  it('TV-2: inline service', () => {
    const payload = `svc|DEPLOY_PAYLOAD|w.py|${PRINT1}|8099|GENERAL|1|0|[]`;
    expect(Buffer.byteLength(payload)).toBe(56);
    expect(parseV1Dag(payload)).toEqual([job({ id: 'svc', kind: 'service', source: { type: 'inline', fileName: 'w.py', base64: PRINT1 }, port: 8099 })]);
  });

  it('TV-3: single inline run on GPU with priority 3 and args a b c', () => {
    const script = b64('import os\nprint("preamble")\nprint("hello from mcp")\n');
    const [one, ...rest] = parseV1Dag(`mcp-one|RUN_PAYLOAD|mcp-one.py|a b c|${script}|GPU|3|0|[]`);
    expect(rest).toEqual([]);
    expect(one).toEqual(job({ id: 'mcp-one', source: { type: 'inline', fileName: 'mcp-one.py', base64: script }, args: ['a', 'b', 'c'], requirement: 'GPU', priority: 3 }));
  });

  it('TV-4: DAG with an injected HITL gate', () => {
    const [pre, gate, train] = [b64('print("pre")\n'), b64('import sys\nprint(sys.argv)\n'), b64('print("train")\n')];
    const payload =
      `hitl-preprocess|RUN_PAYLOAD|preprocess.py||${pre}|GENERAL|1|0|[] ; ` +
      `hitl-gate-hitl-preprocess|RUN_PAYLOAD|hitl_gate.py|hitl-gate-hitl-preprocess 172800 Data looks good? Approve to start training.|${gate}|GENERAL|1|0|[hitl-preprocess] ; ` +
      `hitl-train|RUN_PAYLOAD|train.py||${train}|GENERAL|1|0|[hitl-gate-hitl-preprocess]`;
    expect(parseV1Dag(payload)).toEqual([
      job({ id: 'hitl-preprocess', source: { type: 'inline', fileName: 'preprocess.py', base64: pre } }),
      job({
        id: 'hitl-gate-hitl-preprocess',
        source: { type: 'inline', fileName: 'hitl_gate.py', base64: gate },
        args: ['hitl-gate-hitl-preprocess', '172800', 'Data', 'looks', 'good?', 'Approve', 'to', 'start', 'training.'],
        dependsOn: ['hitl-preprocess'],
      }),
      job({ id: 'hitl-train', source: { type: 'inline', fileName: 'train.py', base64: train }, dependsOn: ['hitl-gate-hitl-preprocess'] }),
    ]);
  });

  it('the gpu_run.yaml frame', () => {
    const payload =
      'Data_Step|RUN_ARCHIVE|GPU_Validation_Project.zip/preprocess.py||GENERAL|1|0|[] ; ' +
      'Training_Step|RUN_ARCHIVE|GPU_Validation_Project.zip/train_model.py||GPU|10|0|[Data_Step]';
    expect(Buffer.byteLength(payload)).toBe(170);
    expect(parseV1Dag(payload)).toEqual([
      job({ id: 'Data_Step', source: { type: 'archive', zip: 'GPU_Validation_Project.zip', entry: 'preprocess.py' } }),
      job({ id: 'Training_Step', source: { type: 'archive', zip: 'GPU_Validation_Project.zip', entry: 'train_model.py' }, requirement: 'GPU', priority: 10, dependsOn: ['Data_Step'] }),
    ]);
  });

  it('parses the complete examples of section 5.2', () => {
    const payload = [
      run('INGEST'),
      `TRANSFORM_A|RUN_PAYLOAD|transform.py|SHARD_A|${PRINT1}|GENERAL|1|0|[INGEST]`,
      run('TRANSFORM_B', 'INGEST'),
      run('TRANSFORM_C', 'INGEST'),
      `AGGREGATE|RUN_PAYLOAD|aggregate.py||${PRINT1}|GENERAL|1|0|[TRANSFORM_A,TRANSFORM_B,TRANSFORM_C]`,
    ].join(' ; ');
    const jobs = parseV1Dag(payload);
    expect(jobs.map((j) => j.id)).toEqual(['INGEST', 'TRANSFORM_A', 'TRANSFORM_B', 'TRANSFORM_C', 'AGGREGATE']);
    expect(jobs[1]?.args).toEqual(['SHARD_A']);
    expect(jobs[4]?.dependsOn).toEqual(['TRANSFORM_A', 'TRANSFORM_B', 'TRANSFORM_C']);
  });
});

describe('parseV1Dag: ids, flags and fields', () => {
  it('strips one DAG- prefix from ids and parents, never doubling it, and deduplicates parents in order', () => {
    const jobs = parseV1Dag([run('DAG-a'), run('b'), run('DAG-DAG-x'), run('c', 'DAG-b, a,b , DAG-a,DAG-DAG-x')].join(' ; '));
    expect(jobs.map((j) => j.id)).toEqual(['a', 'b', 'DAG-x', 'c']);
    expect(jobs[3]?.dependsOn).toEqual(['b', 'a', 'DAG-x']);
    expect(stripDagPrefix('DAG-a')).toBe('a');
    expect(stripDagPrefix('DAG-DAG-a')).toBe('DAG-a');
    expect(stripDagPrefix('a')).toBe('a');
    expect(stripDagPrefix('dag-a')).toBe('dag-a');
  });

  it('treats STICKY as AFFINITY and no flag as none', () => {
    const [a, b, c] = parseV1Dag([`${run('a')}|STICKY`, `${run('b')}|AFFINITY`, run('c')].join(' ; '));
    expect([a?.affinity, b?.affinity, c?.affinity]).toEqual([true, true, false]);
  });

  it('maps service port 0 or an empty port to null', () => {
    const jobs = parseV1Dag(
      [`s0|DEPLOY_PAYLOAD|w.py|${PRINT1}|0|GENERAL|1|0|[]`, `s1|DEPLOY_PAYLOAD|w.py|${PRINT1}||GENERAL|1|0|[]`, 's2|START_ARCHIVE_SERVICE|p.zip/s.py||0|GENERAL|1|0|[]', 's3|START_ARCHIVE_SERVICE|p.zip/s.py|--x|65535|GENERAL|1|0|[]'].join(' ; '),
    );
    expect(jobs.map((j) => [j.kind, j.port])).toEqual([
      ['service', null],
      ['service', null],
      ['service', null],
      ['service', 65535],
    ]);
    expect(jobs[3]?.args).toEqual(['--x']);
  });

  it('defaults an empty requirement to GENERAL, drops empty words from args and accepts boundary numbers', () => {
    const [a] = parseV1Dag(`a|RUN_PAYLOAD|a.py|  x   y |${PRINT1}||-2147483648|0|[ ]`);
    expect(a).toMatchObject({ requirement: 'GENERAL', args: ['x', 'y'], priority: -2147483648, dependsOn: [] });
    expect(parseV1Dag(`a|RUN_PAYLOAD|a.py||${PRINT1}|HIGH_MEM|2147483647|${LIMITS.maxDelayMs}|[]`)[0]).toMatchObject({ requirement: 'HIGH_MEM', priority: 2147483647, delayMs: LIMITS.maxDelayMs });
  });

  it('accepts archive entries in nested folders and base64 with padding', () => {
    const [a, b] = parseV1Dag([`a|RUN_PAYLOAD|w2.py||cHJpbnQoMik=|GENERAL|1|0|[]`, 'b|RUN_ARCHIVE|my.project.zip/a/b/c.sh||GENERAL|1|0|[a]'].join(' ; '));
    expect(a?.source).toEqual({ type: 'inline', fileName: 'w2.py', base64: 'cHJpbnQoMik=' });
    expect(b?.source).toEqual({ type: 'archive', zip: 'my.project.zip', entry: 'a/b/c.sh' });
  });

  it('accepts a forward reference to a parent on a later line', () => {
    expect(parseV1Dag([run('b', 'a'), run('a')].join(' ; ')).map((j) => j.dependsOn)).toEqual([['a'], []]);
  });
});

describe('parseV1Dag: errors', () => {
  const deploy = (body: string): string => `svc|DEPLOY_PAYLOAD|${body}|1|0|[]`;

  it.each<[string, string, RegExp]>([
    ['an empty payload', '', /^Empty DAG$/],
    ['a whitespace payload', '  \n ', /^Empty DAG$/],
    ['a stray ";"', `${run('a')} ; ; ${run('b')}`, /^line 2: empty line/],
    ['a line without "|"', `${run('a')} ; garbage`, /^line 2: not a job line/],
    ['missing parent brackets', `${run('a')} ; b|RUN_PAYLOAD|b.py||${PRINT1}|GENERAL|1|0`, /^line 2 \(b\): missing parent brackets \[\]$/],
    ['text after the parent list', `a|RUN_PAYLOAD|a.py||${PRINT1}|GENERAL|1|0|[]|FAST`, /^line 1 \(a\): missing parent brackets \[\]$/],
    ['no "|" before the parent list', `a|RUN_PAYLOAD|a.py||${PRINT1}|GENERAL|1|0[]`, /^line 1 \(a\): expected "\|" before the parent list$/],
    ['a non-numeric priority', `a|RUN_PAYLOAD|a.py||${PRINT1}|GENERAL|high|0|[]`, /^line 1 \(a\): priority "high" must be a 32-bit integer$/],
    ['a priority beyond 32 bits', `a|RUN_PAYLOAD|a.py||${PRINT1}|GENERAL|2147483648|0|[]`, /^line 1 \(a\): priority "2147483648"/],
    ['missing priority and delay', `a|RUN_ARCHIVE|p.zip/m.py||GENERAL|[]`, /^line 1 \(a\): priority "" must be a 32-bit integer$/],
    ['a line with only id and header', 'a|RUN_PAYLOAD|[]', /^line 1 \(a\): missing <priority>\|<delayMs>/],
    ['a negative delay', `a|RUN_PAYLOAD|a.py||${PRINT1}|GENERAL|1|-5|[]`, /^line 1 \(a\): delay-ms "-5" must not be negative$/],
    ['a fractional delay', `a|RUN_PAYLOAD|a.py||${PRINT1}|GENERAL|1|1.5|[]`, /^line 1 \(a\): delay-ms "1.5" must be a non-negative integer$/],
    ['a delay beyond the limit', `a|RUN_PAYLOAD|a.py||${PRINT1}|GENERAL|1|${LIMITS.maxDelayMs + 1}|[]`, /^line 1 \(a\): delay-ms .* exceeds the maximum/],
    ['an unknown header', `a|PDF_CONVERT|doc.pdf|GENERAL|1|0|[]`, /^line 1 \(a\): unknown header "PDF_CONVERT"/],
    ['the legacy ID|SKILL form', `a|GENERAL|a.py||${PRINT1}|1|0|[]`, /^line 1 \(a\): unknown header "GENERAL"/],
    ['a "|" in an id shifting the fields', `${run('a')} ; x|y|RUN_PAYLOAD|y.py||${PRINT1}|GENERAL|1|0|[a]`, /^line 2 \(x\): unknown header "y"/],
    ['RUN_PAYLOAD with 5 body fields', `a|RUN_PAYLOAD|a.py|x|y|${PRINT1}|GENERAL|1|0|[]`, /^line 1 \(a\): RUN_PAYLOAD takes 4 fields after the header .*, got 5$/],
    ['RUN_PAYLOAD with 3 body fields', `a|RUN_PAYLOAD|a.py|${PRINT1}|GENERAL|1|0|[]`, /^line 1 \(a\): RUN_PAYLOAD takes 4 fields after the header .*, got 3$/],
    ['DEPLOY_PAYLOAD with an args field', deploy(`w.py|--x|${PRINT1}|8099|GENERAL`), /^line 1 \(svc\): DEPLOY_PAYLOAD takes 4 fields after the header .*, got 5$/],
    ['RUN_ARCHIVE with 4 body fields', 'a|RUN_ARCHIVE|p.zip/m.py||8080|GENERAL|1|0|[]', /^line 1 \(a\): RUN_ARCHIVE takes 3 fields after the header .*, got 4$/],
    ['START_ARCHIVE_SERVICE without a port field', 's|START_ARCHIVE_SERVICE|web.zip/server.py|--prod|GENERAL|1|0|[]', /^line 1 \(s\): START_ARCHIVE_SERVICE takes 4 fields after the header .*, got 3$/],
    ['invalid base64', deploy('w.py|print(1)|8099|GENERAL'), /^line 1 \(svc\): the script content of "w.py" is not valid base64$/],
    ['base64 without padding', deploy('w.py|cHJpbnQoMik|8099|GENERAL'), /^line 1 \(svc\): .*not valid base64$/],
    ['a file name with a path', deploy(`../w.py|${PRINT1}|8099|GENERAL`), /^line 1 \(svc\): file name "..\/w.py" must be a bare file name/],
    ['a file name ".."', deploy(`..|${PRINT1}|8099|GENERAL`), /^line 1 \(svc\): file name "\.\." must be a bare file name/],
    ['a port out of range', deploy(`w.py|${PRINT1}|70000|GENERAL`), /^line 1 \(svc\): port "70000" must be an integer from 0 to 65535$/],
    ['a non-numeric port', deploy(`w.py|${PRINT1}|http|GENERAL`), /^line 1 \(svc\): port "http"/],
    ['an archive pointer without .zip', 'a|RUN_ARCHIVE|proj/main.py||GENERAL|1|0|[]', /^line 1 \(a\): Invalid Archive Pointer: Must contain \.zip \(e\.g\. proj\.zip\/main\.py\)$/],
    ['an archive pointer without an entry', 'a|RUN_ARCHIVE|proj.zip||GENERAL|1|0|[]', /^line 1 \(a\): archive pointer "proj.zip" must be <zip>.zip\/<entry>$/],
    ['an archive pointer with .zip inside a word', 'a|RUN_ARCHIVE|proj.zipper/main.py||GENERAL|1|0|[]', /^line 1 \(a\): archive pointer "proj.zipper\/main.py"/],
    ['a zip name with a folder', 'a|RUN_ARCHIVE|dir/p.zip/m.py||GENERAL|1|0|[]', /^line 1 \(a\): archive name "dir\/p.zip" must be a bare file name$/],
    ['a ".." segment in an archive entry', 'a|RUN_ARCHIVE|p.zip/src/../../etc/x.py||GENERAL|1|0|[]', /^line 1 \(a\): archive entry "src\/..\/..\/etc\/x.py" must be a relative path/],
    ['an absolute archive entry', 'a|RUN_ARCHIVE|p.zip//etc/x.py||GENERAL|1|0|[]', /^line 1 \(a\): archive entry "\/etc\/x.py"/],
    ['a backslash in an archive entry', 'a|RUN_ARCHIVE|p.zip/src\\x.py||GENERAL|1|0|[]', /^line 1 \(a\): archive entry "src\\\\x.py"/],
    ['an empty archive entry', 'a|RUN_ARCHIVE|p.zip/||GENERAL|1|0|[]', /^line 1 \(a\): archive entry ""/],
    ['an id with a space', `${run('ok')} ; a b|RUN_PAYLOAD|a.py||${PRINT1}|GENERAL|1|0|[]`, /^line 2: invalid job id "a b": /],
    ['an id with a path', `../x|RUN_PAYLOAD|a.py||${PRINT1}|GENERAL|1|0|[]`, /^line 1: invalid job id "..\/x": /],
    ['an empty id after DAG-', `DAG-|RUN_PAYLOAD|a.py||${PRINT1}|GENERAL|1|0|[]`, /^line 1: invalid job id "DAG-": must not be empty$/],
    ['an invalid parent id', run('a', 'b c'), /^line 1 \(a\): invalid parent id "b c": /],
    ['an empty parent item', `${run('b')} ; ${run('a', 'b,,c')}`, /^line 2 \(a\): empty parent id in \[b,,c\]$/],
    ['a duplicate id', [run('a'), run('b'), run('a')].join(' ; '), /^line 3 \(a\): duplicate job id "a" \(also on line 1\)$/],
    ['a duplicate id written with and without DAG-', [run('a'), run('DAG-a')].join(' ; '), /^line 2 \(a\): duplicate job id "a"/],
    ['an unknown parent', [run('a'), run('b', 'a,zzz')].join(' ; '), /^line 2 \(b\): unknown parent "zzz"/],
    ['a requirement with a space', `a|RUN_PAYLOAD|a.py||${PRINT1}|HIGH MEM|1|0|[]`, /^line 1 \(a\): invalid requirement "HIGH MEM": /],
    ['a requirement longer than 64', `a|RUN_PAYLOAD|a.py||${PRINT1}|${'R'.repeat(65)}|1|0|[]`, /^line 1 \(a\): invalid requirement /],
    ['args containing "[" with a valid trailing list', `${run('p')} ; a|RUN_PAYLOAD|a.py|--ids [1,2]|${PRINT1}|GENERAL|1|0|[p]`, /^line 2 \(a\): "\[" and "\]" may appear only in the parent list$/],
  ])('rejects %s', (_name, payload, message) => {
    expect(errorOf(() => parseV1Dag(payload))).toMatch(message);
  });

  it('rejects a line whose args end in brackets after a ";" cut it, instead of reading them as parents', () => {
    // The client sent args "--opt [p];x": the ";" splits the line, and Titan reads "[p]" as its parent list.
    const message = errorOf(() => parseV1Dag(`${run('p')} ; a|RUN_PAYLOAD|a.py|--opt [p];x|${PRINT1}|GENERAL|1|0|[]`));
    expect(message).toBe('line 2 (a): expected "|" before the parent list');
  });

  it('caps the number of lines', () => {
    const message = errorOf(() => parseV1Dag(run('a') + ' ; x'.repeat(LIMITS.maxJobsPerRun)));
    expect(message).toBe(`DAG has ${LIMITS.maxJobsPerRun + 1} lines; at most ${LIMITS.maxJobsPerRun} jobs are allowed`);
  });

  it('shortens long values in messages', () => {
    const message = errorOf(() => parseV1Dag(`a|RUN_PAYLOAD|a.py||${'!'.repeat(5000)}|GENERAL|1|0|[]`));
    expect(message.length).toBeLessThan(120);
  });
});

describe('parseV1Job (SUBMIT_JOB, 0x03)', () => {
  it('parses a header-first job with priority and delay, leaving the id to the caller', () => {
    expect(parseV1Job('RUN_ARCHIVE|web.zip/server.py|--prod|GENERAL|2|500')).toEqual(
      job({ id: '', source: { type: 'archive', zip: 'web.zip', entry: 'server.py' }, args: ['--prod'], priority: 2, delayMs: 500 }),
    );
  });

  it('parses a leading id and applies the defaults', () => {
    expect(parseV1Job(`  myid|RUN_PAYLOAD|a.py||${PRINT1}|GENERAL \n`)).toEqual(job({ id: 'myid', source: { type: 'inline', fileName: 'a.py', base64: PRINT1 } }));
    expect(parseV1Job(`DAG-svc|DEPLOY_PAYLOAD|w.py|${PRINT1}|8099|GPU|5|0`)).toEqual(
      job({ id: 'svc', kind: 'service', source: { type: 'inline', fileName: 'w.py', base64: PRINT1 }, port: 8099, requirement: 'GPU', priority: 5 }),
    );
  });

  it.each<[string, string, RegExp]>([
    ['a skill-style job', 'PDF_CONVERT|doc.pdf', /^unknown job type "PDF_CONVERT": expected /],
    ['the Java CLI submit form with a skill', 'GENERAL|hello.py|1|0', /^unknown job type "GENERAL"/],
    ['an empty string', '   ', /^Empty job$/],
    ['a trailing port read as a delay by Titan', 'START_ARCHIVE_SERVICE|web.zip/server.py|--prod|8080', /^job: START_ARCHIVE_SERVICE takes 4 fields after the header .*; got 3$/],
    ['a priority without a delay', 'RUN_ARCHIVE|web.zip/server.py|--prod|GENERAL|2', /^job: RUN_ARCHIVE takes 3 fields .*; got 4$/],
    ['a bad priority', 'RUN_ARCHIVE|web.zip/server.py|--prod|GENERAL|x|0', /^job: priority "x" must be a 32-bit integer$/],
    ['a negative delay', 'myid|RUN_ARCHIVE|web.zip/server.py||GENERAL|1|-1', /^job \(myid\): delay-ms "-1" must not be negative$/],
    ['an invalid id', `my id|RUN_PAYLOAD|a.py||${PRINT1}|GENERAL`, /^job: invalid job id "my id": /],
    ['bad base64', 'myid|RUN_PAYLOAD|a.py||not base64|GENERAL', /^job \(myid\): the script content of "a.py" is not valid base64$/],
  ])('rejects %s', (_name, payload, message) => {
    expect(errorOf(() => parseV1Job(payload))).toMatch(message);
  });
});
