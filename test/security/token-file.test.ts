/**
 * Tokens never need to be on a command line, where `ps` shows them to every user of the machine:
 * the master, workers and clients read them from a file (`--token-file`), and the help says so.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kill, launch, type Proc, runCli, waitForOutput } from '../helpers/cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'titan-token-file-'));
// Passable: the worker (started as root here) checks that its jobs' user can reach its work directory.
chmodSync(dir, 0o711);
const procs: Proc[] = [];
afterAll(async () => {
  for (const p of procs) await kill(p, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('--token-file', () => {
  it('starts a master, a worker and a client with the token read from a file, never on argv', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'from-a-file-0123456789\nignored\n', { mode: 0o600 });
    const master = launch(['master', '--data-dir', join(dir, 'data'), '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--token-file', file]);
    procs.push(master);
    const [, port] = await waitForOutput(master, /listening on 127\.0\.0\.1:(\d+)/, 20_000);
    const worker = launch(['worker', '--master', `127.0.0.1:${port}`, '--token-file', file, '--work-dir', join(dir, 'w')]);
    procs.push(worker);
    await waitForOutput(worker, /joined master/, 20_000);
    const stats = await runCli(['stats', '--json', '--master', `127.0.0.1:${port}`, '--token-file', file]);
    expect(stats.code, stats.stderr).toBe(0);
    expect((JSON.parse(stats.stdout) as { workers: { connected: number } }).workers.connected).toBe(1);
    // titan deploy hands a pipeline to titan submit with the same token file.
    writeFileSync(join(dir, 'hello.sh'), 'echo hello\n');
    writeFileSync(join(dir, 'pipeline.yaml'), 'name: from-file\njobs:\n  - id: hello\n    file: hello.sh\n');
    const deployed = await runCli(['deploy', join(dir, 'pipeline.yaml'), '--wait', '--master', `127.0.0.1:${port}`, '--token-file', file], { env: { TITAN_TOKEN: '' } });
    expect(deployed.code, deployed.stderr).toBe(0);
    const wrong = join(dir, 'wrong');
    writeFileSync(wrong, 'not-the-token\n');
    expect((await runCli(['stats', '--master', `127.0.0.1:${port}`, '--token-file', wrong])).code).toBe(3);
  });

  it('refuses a missing or empty file, and --token with --token-file, as usage errors', async () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    const missing = await runCli(['stats', '--token-file', join(dir, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--token-file: cannot read .*nope: ENOENT/);
    expect((await runCli(['stats', '--token-file', empty])).stderr).toMatch(/first line of .*empty is empty/);
    const both = await runCli(['stats', '--token', 'x', '--token-file', empty]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/give --token or --token-file, not both/);
  });

  it('is what the help recommends: --token says ps shows it, and no example puts a token on the command line', async () => {
    for (const command of ['up', 'master', 'worker', 'stats']) {
      const help = await runCli([command, '--help']);
      expect(help.code).toBe(0);
      const text = help.stdout.replace(/\s+/g, ' ');
      expect(text, command).toMatch(/--token <token> (?:(?! --token-file <file>).)*visible to other local users in ps: prefer --token-file/);
      const examples = help.stdout.split('\nExamples:\n')[1] ?? '';
      expect(examples, command).not.toMatch(/--token(?!-file)/);
    }
    expect((await runCli(['worker', '--help'])).stdout).toContain('titan worker --master 10.0.0.5:9090 --token-file ');
  });
});
