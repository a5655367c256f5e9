import { describe, expect, it } from 'vitest';
import { draftContent, DRAFT_NAME, parseDraft } from './draftFormat.ts';
import { addNode, connect, emptyModel } from './model.ts';

describe('constructor drafts', () => {
  it('stores the whole model and reads it back', () => {
    let m = emptyModel();
    const a = addNode(m, 'run', { x: 20, y: 40 }, { file: 'a.py' });
    const b = addNode(a.model, 'approval', { x: 240, y: 40 }, { message: 'go?' });
    m = connect(b.model, a.key, b.key).model;
    m = { ...m, name: 'n', schedule: '0 2 * * *' };
    expect(parseDraft(draftContent(m))).toEqual(m);
  });

  it('refuses what is not a draft, and checks names', () => {
    expect(() => parseDraft('{"x":1}')).toThrow(/not a constructor draft/);
    expect(() => parseDraft('nope')).toThrow();
    expect(DRAFT_NAME.test('nightly-etl.v2')).toBe(true);
    expect(DRAFT_NAME.test('../x')).toBe(false);
  });
});
