import { describe, expect, it } from 'vitest';
import { expandIncludes, LuaIncludeError } from './lua-includes.js';

const from =
  (fragments: Record<string, string>) =>
  (name: string): string | undefined =>
    fragments[name];

describe('expandIncludes', () => {
  it('replaces each include line by its fragment, expanding the fragment\'s own includes', () => {
    const fragments = { helpers: '--- @include "keys"\nlocal function f() return KEY end\n', keys: "local KEY = 'k'\n" };
    expect(expandIncludes('s.lua', '--- @include "helpers"\nreturn f()\n', from(fragments))).toBe("local KEY = 'k'\nlocal function f() return KEY end\nreturn f()\n");
  });

  it('writes a fragment once per script, where it is first included', () => {
    const fragments = { a: '--- @include "keys"\nlocal A = 1', keys: 'local KEY = 2' };
    expect(expandIncludes('s.lua', '--- @include "keys"\n--- @include "a"\n--- @include "keys"\nreturn A', from(fragments))).toBe('local KEY = 2\n\nlocal A = 1\n\nreturn A');
  });

  it('leaves a script without includes as it is, and ignores include-like text that is not a whole line', () => {
    const source = "-- see --- @include \"x\"\nlocal s = '--- @include \"y\"'\nreturn s\n";
    expect(expandIncludes('s.lua', source, from({}))).toBe(source);
  });

  it('names a missing fragment, the script and the chain of includes that wanted it', () => {
    const run = (): string => expandIncludes('commit.lua', '--- @include "outer"\n', from({ outer: '--- @include "helpers"' }));
    expect(run).toThrow(LuaIncludeError);
    expect(run).toThrow('Lua script commit.lua: no fragment "helpers" to include (commit.lua → outer → helpers)');
  });

  it('refuses an include cycle, naming it', () => {
    const fragments = { a: '--- @include "b"', b: '--- @include "c"', c: '--- @include "a"' };
    expect(() => expandIncludes('s.lua', '--- @include "a"', from(fragments))).toThrow('Lua script s.lua: include cycle s.lua → a → b → c → a');
    expect(() => expandIncludes('s.lua', '--- @include "self"', from({ self: '--- @include "self"' }))).toThrow(/include cycle s\.lua → self → self/);
  });
});
