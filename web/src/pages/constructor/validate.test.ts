import { describe, expect, it } from 'vitest';
import { CapabilitySchema, IdSchema, LIMITS, TagSchema } from '../../../../src/core/model.ts';
import { addNode, emptyModel, type Model, updateNode } from './model.ts';
import { type Issue, validate } from './validate.ts';

/** A pipeline of one task with a script, its id and fields as given. */
function oneTask(id: string, fields: Parameters<typeof addNode>[3] = {}): { model: Model; key: string } {
  const r = addNode(emptyModel(), 'run', undefined, { file: 'a.py', ...fields });
  return { model: updateNode(r.model, r.key, { id }), key: r.key };
}

const errorsOf = (issues: Issue[], field: Issue['field']): Issue[] => issues.filter((i) => i.level === 'error' && i.field === field);

describe('constructor validation follows core', () => {
  it.each(['.hidden', '-dash', 'x'.repeat(LIMITS.maxIdLength + 1), 'white space', 'a/b'])('refuses the id %j as core does', (id) => {
    expect(IdSchema.safeParse(id).success).toBe(false);
    const errors = errorsOf(validate(oneTask(id).model), 'id');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/^id: \S/);
  });

  it.each(['gpu:a100', 'x'.repeat(65), 'two words'])('refuses the requirement %j as core does', (requirement) => {
    expect(CapabilitySchema.safeParse(requirement).success).toBe(false);
    const errors = errorsOf(validate(oneTask('train', { requirement }).model), 'requirement');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/^requirement: \S/);
  });

  it('accepts what core accepts', () => {
    for (const id of ['train', '_x', 'a.b-c_9']) expect(IdSchema.safeParse(id).success).toBe(true);
    const { model } = oneTask('a.b-c_9', { requirement: 'GPU', retries: String(LIMITS.maxRetries), args: "--day 'two words'" });
    expect(validate({ ...model, tags: 'nightly, team=data' }).filter((i) => i.level === 'error')).toEqual([]);
  });

  it('refuses a tag, a scheduled name, args and numbers beyond core’s limits, with a message', () => {
    const { model } = oneTask('t', { retries: String(LIMITS.maxRetries + 1), args: "'unclosed", delay: String(LIMITS.maxDelayMs / 1000 + 1) });
    const long = 'x'.repeat(65);
    expect(TagSchema.safeParse(long).success).toBe(false);
    const issues = validate({ ...model, tags: long, name: '-nightly', schedule: '0 2 * * *' });
    expect(errorsOf(issues, 'tags')[0]?.message).toMatch(/^tag "x+": \S/);
    expect(errorsOf(issues, 'name')[0]?.message).toMatch(/scheduled pipeline's name/);
    expect(errorsOf(issues, 'retries')[0]?.message).toBe(`retries: an integer 0–${LIMITS.maxRetries}`);
    expect(errorsOf(issues, 'args')[0]?.message).toMatch(/^args: unclosed single quote/);
    expect(errorsOf(issues, 'delay')).toHaveLength(1);
  });

  it('refuses a script the cluster does not have, once it knows which it has, and has no problem with a blank canvas', () => {
    const { model } = oneTask('t', { file: './lost.sh' });
    expect(errorsOf(validate(model), 'file')).toEqual([]);
    expect(errorsOf(validate(model, [], new Set(['lost.sh'])), 'file')).toEqual([]);
    expect(errorsOf(validate(model, [], new Set(['other.sh'])), 'file')[0]?.message).toMatch(/^t: the cluster has no script lost\.sh/);
    expect(validate(emptyModel(), [], new Set()).filter((i) => i.level !== 'hint')).toEqual([]);
  });
});
