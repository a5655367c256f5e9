import { describe, expect, it } from 'vitest';
import { crumbsOf } from './crumbs.tsx';

describe('crumbsOf', () => {
  it('cuts a key prefix after each separator, the rest of it last', () => {
    expect(crumbsOf('a:b/c', '/:')).toEqual(['a:', 'a:b/', 'a:b/c']);
    expect(crumbsOf('a:b/c', '/')).toEqual(['a:b/', 'a:b/c']);
    expect(crumbsOf('runs/r1/', '/')).toEqual(['runs/', 'runs/r1/']);
    expect(crumbsOf('a//b', '/')).toEqual(['a/', 'a//', 'a//b']);
  });

  it('has no crumbs for the empty prefix', () => {
    expect(crumbsOf('', '/:')).toEqual([]);
  });
});
