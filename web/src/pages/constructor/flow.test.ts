/** Flow control in the constructor: a job's concurrency and rate limit written, read back, checked by core's schemas, and in the SDK code. */
import { describe, expect, it } from 'vitest';
import { addNode, emptyModel, updateNode } from './model.ts';
import { draftContent, parseDraft } from './draftFormat.ts';
import { fromPipeline } from './pipeline.ts';
import { toPython, toTypeScript } from './sdkCode.ts';
import { validate } from './validate.ts';
import { toYaml } from './yaml.ts';

function withFlow(fields: Record<string, string>) {
  const { model, key } = addNode(emptyModel(), 'run', { x: 0, y: 0 }, { file: 'a.py' });
  return { model: updateNode(model, key, { fields }), key };
}

describe('constructor flow control', () => {
  it('writes concurrency and rate_limit, leaving out empty fields, and reads them back', () => {
    const { model } = withFlow({ concurrencyKey: 'tenant-{tags.customer}', concurrencyLimit: '4', rateKey: 'openai', rateLimit: '60', ratePer: 'minute', rateBurst: '10' });
    const yaml = toYaml(model);
    expect(yaml).toContain('    concurrency: {key: "tenant-{tags.customer}", limit: 4}\n    rate_limit: {key: openai, limit: 60, per: minute, burst: 10}\n');
    const back = fromPipeline({ jobs: [{ id: 'task', file: 'a.py', concurrency: { key: 'tenant-{tags.customer}', limit: 4 }, rateLimit: { key: 'openai', limit: 60, per: 'minute', burst: 10 } }] });
    expect(toYaml({ ...back, name: 'pipeline' })).toBe(yaml);
    expect(toYaml(withFlow({ concurrencyKey: 'db' }).model)).toContain('    concurrency: {key: db}\n');
  });

  it("is checked by core's schemas, at the field that is wrong", () => {
    const issues = (fields: Record<string, string>) => validate(withFlow(fields).model).map((i) => [i.field, i.message]);
    expect(issues({ concurrencyKey: 'db', concurrencyLimit: '0' })).toEqual([['concurrencyLimit', 'concurrency limit: Too small: expected number to be >=1']]);
    expect(issues({ rateKey: 'db', rateLimit: '5', ratePer: 'fortnight' })).toEqual([['ratePer', 'rate limit per: Invalid option: expected one of "second"|"minute"|"hour"|"day"']]);
    expect(issues({ rateKey: 'db' })).toEqual([['rateLimit', 'rate limit limit: Invalid input: expected number, received undefined']]);
    expect(issues({ concurrencyLimit: '3' })).toEqual([['concurrencyKey', 'concurrency: give the key the limit is for']]);
    expect(issues({ concurrencyKey: 'open ai' })[0]?.[0]).toBe('concurrencyKey');
  });

  it('appears in the SDK code, and old drafts open with the fields empty', () => {
    const { model } = withFlow({ concurrencyKey: 'openai', concurrencyLimit: '2', rateKey: 'openai', rateLimit: '30' });
    expect(toPython(model)).toContain('concurrency={"key":"openai","limit":2}, rate_limit={"key":"openai","limit":30}');
    expect(toTypeScript(model)).toContain('concurrency: {"key":"openai","limit":2}, rateLimit: {"key":"openai","limit":30}');
    const old = JSON.parse(draftContent(model)) as { model: { nodes: { fields: Record<string, string> }[] } };
    delete old.model.nodes[0]?.fields.rateBurst;
    expect(parseDraft(JSON.stringify(old)).nodes[0]?.fields.rateBurst).toBe('');
  });
});
