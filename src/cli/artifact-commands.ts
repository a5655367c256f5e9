/**
 * `titan artifacts list|get|put|rm`: files kept on the master. Exit codes as everywhere: 1 when
 * the artifact is absent or the master refuses, 2 for bad input (key, file, existing target).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { artifactKeyProblem, DATA_LIMITS } from '../core/data.js';
import { IdSchema } from '../core/model.js';
import { type ConnectionFlags, connectionOptions, json, jsonOption, print, UsageError, withClient } from './connection.js';
import { bytes, table, when } from './format.js';

function checkKey(key: string): string {
  const problem = artifactKeyProblem(key);
  if (problem) throw new UsageError(problem);
  return key;
}

const limit = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > DATA_LIMITS.maxListLimit) throw new InvalidArgumentError(`must be an integer from 1 to ${DATA_LIMITS.maxListLimit}`);
  return n;
};

const runId = (value: string): string => {
  if (!IdSchema.safeParse(value).success) throw new InvalidArgumentError('is not a run id');
  return value;
};

export function registerArtifactCommands(program: Command): void {
  const artifacts = program.command('artifacts').description("files kept on the master: jobs' outputs and what you publish");

  connectionOptions(
      artifacts
        .command('list')
        .description('list artifacts, optionally only those under a key prefix or of one run')
        .argument('[prefix]', 'e.g. "runs/<runId>/"', '')
        .addOption(new Option('--run <runId>', 'only what the jobs of this run produced').argParser(runId))
        .addOption(new Option('--limit <n>', 'at most this many').default(1000).argParser(limit))
        .addOption(jsonOption()),
    )
    .action(async (prefix: string, o: ConnectionFlags & { run?: string; limit: number; json: boolean }) => {
      await withClient(o, async (client) => {
        const { artifacts: found, truncated } = await client.call('artifact.list', { prefix, limit: o.limit, ...(o.run !== undefined && { runId: o.run }) });
        if (o.json) return json(found);
        if (found.length === 0) return print('no artifacts');
        print(
          table(
            ['KEY', 'SIZE', 'SHA256', 'FROM', 'CREATED'],
            found.map((a) => [a.key, bytes(a.size), a.sha256.slice(0, 12), a.runId === null ? '-' : `${a.runId}/${a.jobId}#${a.attempt}`, when(a.createdAt)]),
          ),
        );
        if (truncated) process.stderr.write(`(the first ${found.length} artifacts; raise --limit for more)\n`);
      });
    });

  connectionOptions(
      artifacts
        .command('get')
        .description('download an artifact (sha256 verified) into the current folder, or where -o says ("-": standard output)')
        .argument('<key>')
        .option('-o, --output <file>', 'where to write it')
        .addOption(jsonOption('print the artifact and where it was saved as JSON')),
    )
    .action(async (key: string, o: ConnectionFlags & { output?: string; json: boolean }) => {
      checkKey(key);
      if (o.json && o.output === '-') throw new UsageError('--json and -o - both want standard output: choose one');
      const target = o.output ?? basename(key);
      // Without -o the name comes from the key: never overwrite a file the user did not name.
      if (o.output === undefined && existsSync(target)) throw new UsageError(`${resolve(target)} already exists; choose where to write with -o`);
      await withClient(o, async (client) => {
        if (target === '-') {
          await client.readArtifact(key, (chunk) => new Promise<void>((done) => (process.stdout.write(chunk) ? done() : process.stdout.once('drain', done))));
          return;
        }
        const artifact = await client.fetchArtifact(key, target);
        if (o.json) return json({ ...artifact, path: resolve(target) });
        process.stderr.write(`saved ${key} to ${target} (${bytes(artifact.size)}, sha256 ${artifact.sha256.slice(0, 12)}… verified)\n`);
      });
    });

  connectionOptions(artifacts.command('put').description('upload a file as an artifact (replacing one with the same key)').argument('<key>').argument('<file>').addOption(jsonOption('print the artifact as JSON')))
    .action(async (key: string, file: string, o: ConnectionFlags & { json: boolean }) => {
      checkKey(key);
      if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`cannot read ${file}: not a file`);
      await withClient(o, async (client) => {
        const artifact = await client.publishArtifact(key, file);
        if (o.json) return json(artifact);
        print(`published ${artifact.key} (${bytes(artifact.size)}, sha256 ${artifact.sha256})`);
      });
    });

  connectionOptions(artifacts.command('rm').description('delete an artifact (exit 1 when it was absent)').argument('<key>').addOption(jsonOption('print {key, deleted}'))).action(
    async (key: string, o: ConnectionFlags & { json: boolean }) => {
      checkKey(key);
      await withClient(o, async (client) => {
        const deleted = await client.deleteArtifact(key);
        if (o.json) json({ key, deleted });
        else if (deleted) print(`deleted ${key}`);
        else process.stderr.write(`titan: no artifact "${key}"\n`);
        if (!deleted) process.exitCode = 1;
      });
    },
  );
}
