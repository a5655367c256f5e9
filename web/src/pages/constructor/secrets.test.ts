/** Secrets in the constructor: a job's secret names written to the YAML and both SDKs' code, read back, and checked. */
import { describe, expect, it } from 'vitest';
import { draftContent, parseDraft } from './draftFormat.ts';
import { addNode, emptyModel, updateNode } from './model.ts';
import { fromPipeline } from './pipeline.ts';
import { toPython, toTypeScript } from './sdkCode.ts';
import { validate } from './validate.ts';
import { toYaml } from './yaml.ts';

function withSecrets(secrets: string, env = '') {
  const { model, key } = addNode(emptyModel(), 'run', { x: 0, y: 0 }, { file: 'a.py' });
  return updateNode(model, key, { fields: { secrets, env } });
}

describe('constructor secrets', () => {
  it('writes the names, each once, to the YAML and reads them back unchanged', () => {
    const yaml = toYaml(withSecrets('OPENAI_API_KEY, DB_PASSWORD OPENAI_API_KEY'));
    expect(yaml).toContain('    secrets: [OPENAI_API_KEY, DB_PASSWORD]\n');
    const back = fromPipeline({ jobs: [{ id: 'task', file: 'a.py', secrets: ['OPENAI_API_KEY', 'DB_PASSWORD'] }] });
    expect(back.nodes[0]?.fields.secrets).toBe('OPENAI_API_KEY, DB_PASSWORD');
    expect(toYaml({ ...back, name: 'pipeline' })).toBe(yaml);
    expect(toYaml(withSecrets(''))).not.toContain('secrets');
  });

  it('passes them to both SDKs as declared', () => {
    const model = withSecrets('OPENAI_API_KEY DB_PASSWORD');
    expect(toPython(model)).toContain('secrets=["OPENAI_API_KEY", "DB_PASSWORD"]');
    expect(toTypeScript(model)).toContain('secrets: ["OPENAI_API_KEY","DB_PASSWORD"]');
  });

  it("checks each name by core's schema, at the field, and old drafts open with none", () => {
    const issues = (secrets: string, env = '') => validate(withSecrets(secrets, env)).filter((i) => i.field === 'secrets').map((i) => i.message);
    expect(issues('OPENAI_API_KEY')).toEqual([]);
    expect(issues('1KEY')[0]).toMatch(/^secrets: 1KEY: /);
    expect(issues('TITAN_TOKEN')[0]).toMatch(/^secrets: TITAN_TOKEN: /);
    expect(issues('API_KEY', 'API_KEY=plain')).toEqual(['secrets: API_KEY is also an environment variable; keep it in one place']);
    const old = JSON.parse(draftContent(withSecrets(''))) as { model: { nodes: { fields: Record<string, string> }[] } };
    delete old.model.nodes[0]?.fields.secrets;
    expect(parseDraft(JSON.stringify(old)).nodes[0]?.fields.secrets).toBe('');
  });
});
