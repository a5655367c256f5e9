/**
 * SLOW (about a minute): the package as npm publishes it. `npm pack` of the checkout (built
 * beforehand by `npm run build`, so the pack skips its `prepack` build), installed into a fresh
 * project from the npm cache, must ship what runs (the compiled SDK with its declarations, the
 * dashboard, the Python SDK, the `titan` command) and nothing else (no tests, no CI files, no
 * sources); and `import { TitanClient } from 'titan-ts'` must type-check and load there.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cluster.js';
import { TempDir } from '../helpers/scripts.js';

const run = promisify(execFile);
const NAME = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string }).name;

/** The environment without the `npm_*` variables an npm script hands down, which would steer the inner npm. */
const cleanEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));

async function sh(cmd: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { cwd, env: { ...cleanEnv(), NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024, timeout: 150_000 });
    return stdout;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

describe('npm pack (slow: packs and installs the package)', () => {
  const out = new TempDir('titan-pack-');
  const project = new TempDir('titan-consumer-');
  let files: string[] = [];

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/src/sdk/index.d.ts')) || !existsSync(join(ROOT, 'dist/web/index.html'))) throw new Error('dist/ is not built: run npm run build first');
    // --ignore-scripts: dist/ is fresh, so the prepack build is skipped.
    const [packed] = JSON.parse(await sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out.path], ROOT)) as { filename: string }[];
    const tarball = join(out.path, packed?.filename ?? '');
    files = (await sh('tar', ['-tzf', tarball], out.path)).split('\n').filter(Boolean).map((p) => p.replace(/^package\//, ''));

    project.write('package.json', JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    // Dependencies come from the npm cache that `npm ci` filled; install scripts are skipped (the
    // SDK needs no native module, and compiling SQLite would take a minute).
    const install = ['install', tarball, '--no-audit', '--no-fund', '--ignore-scripts'];
    try {
      await sh('npm', [...install, '--offline'], project.path);
    } catch {
      await sh('npm', [...install, '--prefer-offline'], project.path);
    }
  }, 240_000);

  afterAll(() => {
    out.remove();
    project.remove();
  });

  it('ships the compiled SDK with its declarations, the Redis store\'s Lua scripts, the dashboard, the Python SDK and the command', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/titan.js', 'dist/src/sdk/index.js', 'dist/src/sdk/index.d.ts', 'dist/src/cli/main.js', 'dist/src/worker/job-env.js', 'dist/src/store/redis-lua/commit.lua', 'dist/src/store/redis-lua/includes/kv-common.lua', 'dist/web/index.html', 'python/titan_sdk/__init__.py', 'python/titan_sdk/client.py']));
  });

  it('ships no tests, CI files, TypeScript sources, source maps or Python caches', () => {
    const unwanted = files.filter((p) => /^(test|\.ci|src|web|bench|examples|docs|packaging|python\/tests)\//.test(p) || /\.test\.|\.map$|__pycache__|\.pyc$/.test(p) || p.startsWith('dist/bench/'));
    expect(unwanted).toEqual([]);
  });

  it('type-checks a program importing the SDK by the package name', async () => {
    project.write(
      'check.ts',
      `import { TitanClient, job, type JobStatus, type RunView } from '${NAME}';
import { TitanClient as SdkClient, NotFoundError } from '${NAME}/sdk';

const client: TitanClient = new SdkClient({ host: '127.0.0.1', port: 9090 });
const spec = job('train', { name: 'train.py', content: 'print(1)' }).args('--epochs', 3).retries(2).toJob();
const done: JobStatus = 'COMPLETED';
export async function latest(runId: string): Promise<RunView> {
  try {
    return await client.getRun(runId);
  } catch (err) {
    if (err instanceof NotFoundError) throw new Error(\`no run \${runId}\`);
    throw err;
  }
}
// The types are real, not any: a wrong argument is an error.
// @ts-expect-error retries takes a number
job('bad', 'bad.py').retries('3');
export { spec, done };
`,
    );
    project.write(
      'tsconfig.json',
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
        files: ['check.ts'],
      }),
    );
    await sh(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], project.path);
  }, 180_000);

  it('loads in Node by the package name, and its titan command runs', async () => {
    const probe = `const root = await import('${NAME}'); const sdk = await import('${NAME}/sdk');
console.log(typeof root.TitanClient, typeof root.job, root.TitanClient === sdk.TitanClient);`;
    expect((await sh(process.execPath, ['--input-type=module', '-e', probe], project.path)).trim()).toBe('function function true');
    expect(await sh(join(project.path, 'node_modules/.bin/titan'), ['--version'], project.path)).toMatch(/\d+\.\d+\.\d+/);
  });
});
