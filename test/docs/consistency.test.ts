/**
 * What several docs state about one fact must agree, with each other and with the code:
 * - how a job reaches the master's SDKs: the worker's own Python SDK is first on every job's
 *   PYTHONPATH (src/worker/job-env.ts; test/integration/job-sdks.test.ts runs it), so no doc may
 *   send Python jobs to `--legacy-v1`;
 * - every MCP tool the server registers has its row in docs/mcp.md, and no row names a tool it lacks.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOOL_NAMES } from '../../src/mcp/server.js';

const ROOT = join(import.meta.dirname, '../..');

/** README.md, docs/*.md, the examples' READMEs: path and paragraphs. */
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), ...readdirSync(join(ROOT, 'examples'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `examples/${d.name}/README.md`)].flatMap((path) => {
  try {
    return [{ path, paragraphs: readFileSync(join(ROOT, path), 'utf8').split(/\n\s*\n/) }];
  } catch {
    return [];
  }
});

describe('the docs agree', () => {
  it('no doc sends Python jobs to --legacy-v1 or to Titan\'s own SDK for reaching the master', () => {
    const wrong = DOCS.flatMap(({ path, paragraphs }) => paragraphs.filter((p) => /Python jobs?\b/.test(p) && /--legacy-v1/.test(p) && !/import titan_sdk/.test(p)).map((p) => `${path}: ${p.slice(0, 120)}`));
    expect(wrong).toEqual([]);
  });

  it('every doc that tells how a Node job loads its SDK (TITAN_SDK) tells that Python jobs import titan_sdk', () => {
    // The examples' READMEs describe one example each, not what every job gets.
    const silent = DOCS.filter(({ path }) => !path.startsWith('examples/')).filter(({ paragraphs }) => paragraphs.some((p) => /TITAN_SDK\)/.test(p)) && !paragraphs.some((p) => /import titan_sdk|from titan_sdk import/.test(p) && /PYTHONPATH/.test(p))).map((d) => d.path);
    expect(silent).toEqual([]);
  });

  it('docs/mcp.md has one row for each MCP tool', () => {
    const rows = [...readFileSync(join(ROOT, 'docs/mcp.md'), 'utf8').matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual([...TOOL_NAMES].sort());
  });
});
