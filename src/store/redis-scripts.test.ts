import { afterEach, describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { TempDir } from '../../test/helpers/scripts.js';
import { KEY, PREFIX, RUN_PART } from './redis-keys.js';
import { COMMIT_ERROR, DIVERGED_ERROR, loadRedisScripts, redisScripts } from './redis-scripts.js';

describe('the Redis scripts', () => {
  const dirs: TempDir[] = [];
  const folder = (files: Record<string, string>): URL => {
    const dir = new TempDir('titan-lua-');
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) dir.write(name, text);
    return pathToFileURL(`${dir.path}/`);
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) dir.remove();
  });

  it('loads every script with its includes expanded', () => {
    const scripts = redisScripts();
    expect(Object.keys(scripts)).toContain('titanCommit');
    for (const [name, lua] of Object.entries(scripts)) {
      expect(lua, name).not.toMatch(/@include/);
      expect(lua, name).toContain(`local KEY_SCHEMA = '${KEY.schema}'`);
      // Every key name a script uses is one the fragment defines (a typo would be a global, refused at run time).
      for (const used of new Set(lua.match(/\b(KEY|PREFIX|RUN_PART)_[A-Z_]+\b/g))) expect(lua, `${name} uses ${used}`).toContain(`local ${used} = '`);
    }
    expect(scripts.titanCommit).toContain(`local COMMIT_ERROR, DIVERGED_ERROR = '${COMMIT_ERROR}', '${DIVERGED_ERROR}'`);
    expect(scripts.titanCommit).toContain('local function leaveAgent(agent, id)');
    expect(scripts.titanKvApply).toContain('local function parse(m)');
  });

  it('gives Lua the key names of redis-keys.ts', () => {
    const lua = redisScripts().titanFindJob;
    expect(lua).toContain(`local KEY_RUNS_FINISHED = '${KEY.runsFinished}'`);
    expect(lua).toContain(`local PREFIX_RUNS_STATUS = '${PREFIX.runsStatus}'`);
    expect(lua).toContain(`local PREFIX_BUS = '${PREFIX.bus}'`);
    expect(lua).toContain(`local RUN_PART_SPECS = '${RUN_PART.specs}'`);
    const defined = lua.match(/^local (KEY|PREFIX|RUN_PART)_\w+ = /gm) ?? [];
    expect(defined).toHaveLength(Object.keys(KEY).length + Object.keys(PREFIX).length + Object.keys(RUN_PART).length);
  });

  it('names a missing include and the script that wants it', () => {
    const dir = folder({ 'commit.lua': '--- @include "keys"\n--- @include "nowhere"\nreturn 1\n' });
    expect(() => loadRedisScripts(dir)).toThrow('Lua script commit.lua: no fragment "nowhere" to include (commit.lua → nowhere)');
  });

  it('reads fragments only from includes/', () => {
    const dir = folder({ 'commit.lua': '--- @include "../secret"\n', 'secret.lua': 'return 1\n' });
    expect(() => loadRedisScripts(dir)).toThrow('Lua script commit.lua: no fragment "../secret" to include (commit.lua → ../secret)');
  });

  it('refuses an include cycle between fragment files', () => {
    const dir = folder({ 'commit.lua': '--- @include "a"\n', 'includes/a.lua': '--- @include "b"\n', 'includes/b.lua': '--- @include "a"\n' });
    expect(() => loadRedisScripts(dir)).toThrow('Lua script commit.lua: include cycle commit.lua → a → b → a');
  });

  it('says which script file is missing', () => {
    expect(() => loadRedisScripts(folder({}))).toThrow(/Lua script commit\.lua is missing from /);
  });
});
