/**
 * Includes in Lua scripts, as BullMQ writes them: a line `--- @include "name"` is replaced by the
 * fragment of that name, whose own includes are expanded in turn. A fragment is written once per
 * script, where it is first included (it defines locals the rest of the script shares); an
 * include cycle or a missing fragment is an error naming the script and the chain of includes.
 */

const INCLUDE = /^--- @include "([^"]*)"[ \t]*$/gm;

/** The text of a fragment, or undefined when there is none of that name. */
export type FragmentSource = (name: string) => string | undefined;

export class LuaIncludeError extends Error {
  override readonly name = 'LuaIncludeError';
}

/** Expands the includes of `source`, the script `script` (its name is for error messages). */
export function expandIncludes(script: string, source: string, fragment: FragmentSource): string {
  const written = new Set<string>();
  // chain: the fragments being expanded, outermost first.
  const expand = (text: string, chain: readonly string[]): string =>
    text.replace(INCLUDE, (_line, name: string) => {
      const path = [script, ...chain, name].join(' → ');
      if (chain.includes(name)) throw new LuaIncludeError(`Lua script ${script}: include cycle ${path}`);
      if (written.has(name)) return '';
      const body = fragment(name);
      if (body === undefined) throw new LuaIncludeError(`Lua script ${script}: no fragment "${name}" to include (${path})`);
      written.add(name);
      return expand(body.replace(/\n$/, ''), [...chain, name]);
    });
  return expand(source, []);
}
