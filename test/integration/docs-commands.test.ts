/**
 * The commands the docs give for starting Titan from outside the checkout start this Titan: the
 * MCP registration of docs/mcp.md (its JSON entry and its Claude Code line) and the ways of
 * docs/cli.md, each run from a folder that is not the checkout. And no doc registers the MCP server
 * as `npx titan`, which there would fetch an unrelated registry package.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/core/version.js';
import { ROOT } from '../helpers/cluster.js';
import { TempDir } from '../helpers/scripts.js';

const run = promisify(execFile);
const CHECKOUT = '/path/to/titan';
const PIPELINES = '/home/me/pipelines';

/** README.md, docs/*.md and the examples' and Python SDK's READMEs. */
function docs(): { path: string; text: string }[] {
  const paths = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  for (const dir of readdirSync(join(ROOT, 'examples'), { withFileTypes: true })) if (dir.isDirectory()) paths.push(`examples/${dir.name}/README.md`);
  return paths.flatMap((path) => {
    try {
      return [{ path, text: readFileSync(join(ROOT, path), 'utf8') }];
    } catch {
      return [];
    }
  });
}

/** Whether `command args` speaks MCP as this Titan's server, started in `cwd`. */
async function serverName(command: string, args: string[], cwd: string): Promise<string | undefined> {
  const transport = new StdioClientTransport({ command, args, cwd, env: { PATH: process.env.PATH ?? '', TITAN_HOST: '127.0.0.1', TITAN_PORT: '1', NO_COLOR: '1' }, stderr: 'ignore' });
  const client = new Client({ name: 'docs-test', version: '1.0.0' });
  try {
    await client.connect(transport);
    return client.getServerVersion()?.name;
  } finally {
    await client.close();
  }
}

describe('commands the docs give for use outside the checkout', () => {
  const elsewhere = new TempDir('titan-elsewhere-');
  const pipelines = new TempDir('titan-pipelines-');
  const mcpDoc = readFileSync(join(ROOT, 'docs/mcp.md'), 'utf8');
  const place = (s: string): string => s.split(CHECKOUT).join(ROOT).split(PIPELINES).join(pipelines.path);

  afterAll(() => {
    elsewhere.remove();
    pipelines.remove();
  });

  it('no doc registers the MCP server through npx titan', () => {
    const bad = docs().filter(({ text }) => /"command":\s*"npx"/.test(text) || /--\s+npx titan mcp/.test(text)).map((d) => d.path);
    expect(bad).toEqual([]);
  });

  it('the JSON entry of docs/mcp.md starts this MCP server', async () => {
    const block = /```json\n([\s\S]*?)```/.exec(mcpDoc)?.[1] ?? '';
    const entry = (JSON.parse(block) as { mcpServers: Record<string, { command: string; args: string[] }> }).mcpServers.titan;
    expect(entry).toBeDefined();
    expect(await serverName(entry?.command ?? '', (entry?.args ?? []).map(place), elsewhere.path)).toBe('titan');
  });

  it('the Claude Code line of docs/mcp.md starts it too', async () => {
    const line = /claude mcp add titan [^`]*? -- ([^`]+)`/.exec(mcpDoc)?.[1] ?? '';
    const [command, ...args] = place(line).split(' ');
    expect(command).toBe('node');
    expect(await serverName(command ?? '', args, elsewhere.path)).toBe('titan');
  });

  it('npx --no --prefix <checkout> titan runs this titan from another folder', async () => {
    expect(readFileSync(join(ROOT, 'docs/cli.md'), 'utf8')).toContain(`npx --no --prefix ${CHECKOUT} titan`);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
    const { stdout } = await run('npx', ['--no', '--prefix', ROOT, 'titan', '--version'], { cwd: elsewhere.path, env });
    expect(stdout.trim()).toBe(VERSION);
  });
});
