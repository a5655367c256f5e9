import { describe, expect, it } from 'vitest';
import { commit, commitSince, historyOf, redo, replacePresent, undo } from './history.ts';
import { addNode, connect, duplicateNodes, emptyModel, type Model, moveNodes, removeNodes, updateNode } from './model.ts';
import { fromPipeline, pipelineOfRun } from './pipeline.ts';
import { splitShell, toPython, toTypeScript } from './sdkCode.ts';
import { validate } from './validate.ts';
import { toYaml, yamlString } from './yaml.ts';

function diamond(): { model: Model; a: string; b: string; c: string; d: string } {
  let m = emptyModel();
  const keys: string[] = [];
  for (const id of ['a', 'b', 'c', 'd']) {
    const r = addNode(m, 'run', { x: 0, y: 0 }, { file: `${id}.py` });
    m = updateNode(r.model, r.key, { id });
    keys.push(r.key);
  }
  const [a, b, c, d] = keys as [string, string, string, string];
  for (const [s, t] of [
    [a, b],
    [a, c],
    [b, d],
    [c, d],
  ] as const) {
    const r = connect(m, s, t);
    expect(r.error).toBeNull();
    m = r.model;
  }
  return { model: m, a, b, c, d };
}

describe('constructor model', () => {
  it('adds nodes with free ids and removes them with their edges', () => {
    let m = emptyModel();
    m = addNode(m, 'run').model;
    m = addNode(m, 'run').model;
    m = addNode(m, 'service').model;
    expect(m.nodes.map((n) => n.id)).toEqual(['task', 'task-2', 'service']);
    const { model, b } = diamond();
    const after = removeNodes(model, [b]);
    expect(after.nodes).toHaveLength(3);
    expect(after.edges).toHaveLength(2);
  });

  it('refuses self-loops, duplicates and cycles with a reason', () => {
    const { model, a, b, d } = diamond();
    expect(connect(model, a, a).error).toMatch(/itself/);
    expect(connect(model, a, b).error).toMatch(/already depends/);
    expect(connect(model, d, a).error).toMatch(/cycle/);
    expect(connect(model, d, a).model).toBe(model);
  });

  it('duplicates nodes and the edges among them', () => {
    const { model, a, b } = diamond();
    const r = duplicateNodes(model, [a, b]);
    expect(r.keys).toHaveLength(2);
    expect(r.model.nodes.map((n) => n.id)).toContain('a-copy');
    expect(r.model.edges).toHaveLength(5);
  });

  it('quotes YAML strings that would read as something else', () => {
    expect(yamlString('extract.py')).toBe('extract.py');
    expect(yamlString('true')).toBe('"true"');
    expect(yamlString('12')).toBe('"12"');
    expect(yamlString('a: b')).toBe('"a: b"');
    expect(yamlString('x\n- y')).toBe('"x\\n- y"');
    expect(yamlString('#c')).toBe('"#c"');
  });

  it('writes the YAML of a diamond', () => {
    const dm = diamond();
    let model = dm.model;
    const d = dm.d;
    model = updateNode(model, d, { fields: { requirement: 'GPU', retries: '2', delay: '1.5', args: "--x 'two words'", env: 'A=1\nB=x y', affinity: 'required' } });
    model = { ...model, name: 'demo', tags: 'nightly, team=data' };
    const y = toYaml(model);
    expect(y).toContain('name: demo\ntags: [nightly, "team=data"]\njobs:\n  - id: a\n    file: a.py\n');
    expect(y).toContain('  - id: d\n    file: d.py\n    args: "--x \'two words\'"\n    depends_on: [b, c]\n    requirement: GPU\n    delay: 1.5\n    retries: 2\n    affinity: required\n    env: {A: "1", B: "x y"}\n');
  });

  it('writes services, approvals and a schedule', () => {
    let m = emptyModel();
    const s = addNode(m, 'service', undefined, { file: 'serve.py', port: '8000', timeout: '9' });
    m = s.model;
    const g = addNode(m, 'approval', undefined, { message: 'ok?', file: 'ignored.py' });
    m = { ...g.model, schedule: '0 2 * * *', name: 'nightly' };
    const y = toYaml(m);
    expect(y).toContain('schedule: "0 2 * * *"');
    expect(y).toContain('  - id: service\n    type: service\n    file: serve.py\n    port: 8000\n');
    expect(y).not.toContain('timeout');
    expect(y).toContain('  - id: approval\n    type: approval\n    message: "ok?"\n');
    expect(y).not.toContain('ignored');
  });

  it('reads the server parse result back', () => {
    const m = fromPipeline({
      name: 'etl',
      tags: ['x'],
      schedule: { cron: '0 2 * * *' },
      jobs: [
        { id: 'a', kind: 'run', file: 'a.py', args: ['--day', 'two words'], dependsOn: [], requirement: 'GENERAL', priority: 1, delayMs: 2500, retries: 3, affinity: 'none', env: { M: 'fast' } },
        { id: 'b', kind: 'service', file: 'b.py', dependsOn: ['a'], service: { port: 8000 }, affinity: 'soft' },
        { id: 'g', kind: 'approval', dependsOn: ['b'], message: 'go?' },
      ],
    });
    expect(m.nodes.map((n) => [n.id, n.kind])).toEqual([
      ['a', 'run'],
      ['b', 'service'],
      ['g', 'approval'],
    ]);
    expect(m.edges).toHaveLength(2);
    const a = m.nodes[0];
    expect(a?.fields.args).toBe("--day 'two words'");
    expect(splitShell(a?.fields.args ?? '')).toEqual(['--day', 'two words']);
    expect(a?.fields.delay).toBe('2.5');
    expect(a?.fields.requirement).toBe('');
    expect(m.nodes[1]?.fields.affinity).toBe('true');
    expect(m.schedule).toBe('0 2 * * *');
    // Exported again and read again, the same model.
    expect(toYaml(m)).toContain('depends_on: [a]');
  });

  it('validates ids, scripts, numbers and capabilities', () => {
    let m = emptyModel();
    const r1 = addNode(m, 'run');
    m = r1.model;
    const r2 = addNode(m, 'run', undefined, { file: 'x.py', requirement: 'TPU', retries: 'many', port: '0' });
    m = updateNode(r2.model, r2.key, { id: 'task' });
    const issues = validate(m, ['GENERAL', 'GPU']);
    const msgs = issues.map((i) => `${i.level}:${i.message}`);
    expect(msgs.some((s) => s.includes('choose a script'))).toBe(true);
    expect(msgs.some((s) => s.includes('more than once'))).toBe(true);
    expect(msgs.some((s) => s.startsWith('error:retries'))).toBe(true);
    expect(msgs.some((s) => s.startsWith('error:port'))).toBe(true);
    expect(msgs.some((s) => s.startsWith('warning:') && s.includes('TPU'))).toBe(true);
    expect(validate(emptyModel())[0]?.message).toMatch(/no jobs/);
    expect(validate({ ...m, schedule: '0 2 * *' }).some((i) => i.field === 'schedule')).toBe(true);
    expect(validate({ ...m, schedule: '@daily' }).some((i) => i.field === 'schedule')).toBe(false);
  });

  it('undoes and redoes snapshots', () => {
    let h = historyOf(emptyModel());
    h = commit(h, addNode(h.present, 'run').model);
    h = commit(h, addNode(h.present, 'run').model);
    expect(h.present.nodes).toHaveLength(2);
    h = undo(h);
    expect(h.present.nodes).toHaveLength(1);
    h = undo(h);
    expect(h.present.nodes).toHaveLength(0);
    expect(undo(h)).toBe(h);
    h = redo(redo(h));
    expect(h.present.nodes).toHaveLength(2);
    expect(redo(h)).toBe(h);
  });

  it('makes one step of a change made in place, such as a drag', () => {
    let h = commit(historyOf(emptyModel()), addNode(emptyModel(), 'run').model);
    const before = h.present;
    expect(commitSince(h, before)).toBe(h);
    const key = before.nodes[0]?.key ?? '';
    h = replacePresent(h, moveNodes(h.present, new Map([[key, { x: 20, y: 0 }]])));
    h = replacePresent(h, moveNodes(h.present, new Map([[key, { x: 40, y: 0 }]])));
    h = commitSince(h, before);
    expect(h.past).toHaveLength(2);
    expect(h.future).toHaveLength(0);
    expect(undo(h).present).toBe(before);
    expect(h.present.nodes[0]?.x).toBe(40);
  });

  it('generates SDK code', () => {
    const { model } = diamond();
    const py = toPython(model);
    expect(py).toContain('TitanJob("d", filename="d.py", parents=["b", "c"])');
    const ts = toTypeScript(model);
    expect(ts).toContain('{ id: "d", script: "d.py", dependsOn: ["b","c"] }');
  });
});

describe('a past run on the canvas', () => {
  it('maps run specs to a pipeline: scripts become files, a gate keeps its wait, edges follow dependsOn', () => {
    const doc = pipelineOfRun({ name: 'nightly', tags: ['e2e'] }, [
      { id: 'a', script: { name: 'a.sh' }, args: ['x y'], timeoutMs: 5000 },
      { id: 'ok', kind: 'approval', message: 'ship?', dependsOn: ['a'], timeoutMs: 60_000 },
      { id: 'b', archive: { name: 'p.zip', entry: 'src/b.py' }, dependsOn: ['ok'] },
    ]);
    expect(doc).toEqual({
      name: 'nightly',
      tags: ['e2e'],
      jobs: [
        { id: 'a', file: 'a.sh', args: ['x y'], timeoutMs: 5000 },
        { id: 'ok', kind: 'approval', message: 'ship?', dependsOn: ['a'], maxWaitMs: 60_000 },
        { id: 'b', file: 'src/b.py', dependsOn: ['ok'] },
      ],
    });
    const model = fromPipeline(doc);
    expect(model.nodes.map((n) => n.id)).toEqual(['a', 'ok', 'b']);
    expect(model.edges).toHaveLength(2);
    expect(toYaml(model)).toContain('file: a.sh');
  });
});
