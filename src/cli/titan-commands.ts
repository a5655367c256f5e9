/**
 * The commands of Titan's Java shell and Python CLI that the rest of the CLI lacks: `json`,
 * `upload`, `files`, `deploy`, `dag`, `shutdown`, `retry`, `rerun` and `version`. Exit codes as
 * everywhere: 1 the work failed or the master refused, 2 bad input, 3 the master is unreachable.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Argument, type Command, InvalidArgumentError, Option } from 'commander';
import { TitanError } from '../core/errors.js';
import { CapabilitySchema, DEFAULT_CAPABILITY, ReadinessSchema, RESTART_POLICIES, type RestartPolicy, ScriptRefSchema } from '../core/model.js';
import { VERSION } from '../core/version.js';
import type { HelloResult } from '../protocol/methods.js';
import { Peer } from '../protocol/peer.js';
import { formatMaster, leaderHint, type MasterEndpoint } from '../protocol/masters.js';
import { dial, explainConnectFailure, type TlsClientOptions } from '../protocol/tls-dial.js';
import { parseV1Dag, V1DagError } from '../protocol/v1-dag.js';
import type { ScriptSource, TitanClient } from '../sdk/client.js';
import { clientTls, type ConnectionFlags, connectionOptions, findToken, json, jsonOption, mastersFor, print, UsageError, withClient } from './connection.js';
import { bold, bytes, colourStatus, dim, table, when } from './format.js';
import { awaitService, followRun } from './waiting.js';
import { shutdownOptions, type ShutdownFlags, shutdownWorker } from './workers-commands.js';

const portArgument = (value: string): number => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('must be a port from 1 to 65535 (0: assign one)');
  return n;
};

const isBareName = (name: string): boolean => ScriptRefSchema.shape.name.safeParse(name).success;

function checkName(name: string): string {
  if (!isBareName(name)) throw new UsageError(`"${name}" is not a valid file name: a bare name without "/" or "\\", at most 255 characters`);
  return name;
}

function checkFile(file: string): string {
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`cannot read ${file}: no such file`);
  return file;
}

/**
 * The script to run: a local file, or else (Titan's `run <file>` runs from perm_files) a script of
 * the library of that name, fetched from the master. Neither is bad input (exit 2).
 */
export async function resolveScript(client: TitanClient, script: string): Promise<ScriptSource> {
  if (existsSync(script)) {
    if (statSync(script).isDirectory()) throw new UsageError(`cannot read script ${script}: it is a folder, not a file`);
    return script;
  }
  if (isBareName(script) && (await client.listFiles('scripts')).some((f) => f.name === script)) {
    process.stderr.write(dim(`${script} is not a local file: using ${script} from the script library\n`));
    return { name: script, content: await client.getFile('scripts', script) };
  }
  throw new UsageError(`cannot read script ${script}: no such file${isBareName(script) ? ', and the script library has none of that name' : ''}`);
}

const connectionArgs = (o: ConnectionFlags): string[] => [
  ...(o.master !== undefined ? ['--master', o.master] : []),
  ...(o.token !== undefined ? ['--token', o.token] : []),
  ...(o.tokenFile !== undefined ? ['--token-file', o.tokenFile] : []),
  ...(o.dataDir !== undefined ? ['--data-dir', o.dataDir] : []),
];

export function registerTitanCommands(program: Command): void {
  connectionOptions(program.command('json').description("the cluster statistics as JSON (Titan's STATS_JSON; the same as titan stats --json)"))
    .addHelpText('after', '\nExamples:\n  titan json | jq .workers\n')
    .action(async (o: ConnectionFlags) => {
      await withClient(o, async (client) => json(await client.stats()));
    });

  connectionOptions(
    program
      .command('upload')
      .description('store a file on the master: in uploads (assets, project archives), or with --scripts in the script library')
      .argument('<file>', 'a local file')
      .option('--name <name>', 'the name to store it under (default: the file name)')
      .option('--scripts', 'store it in the script library (what titan deploy and titan run <name> use)', false)
      .addOption(jsonOption('print {name, size, area}')),
  )
    .addHelpText('after', '\nExamples:\n  titan upload data.csv\n  titan upload build/model.zip --name model-v2.zip\n  titan upload worker.py --scripts\n')
    .action(async (file: string, o: ConnectionFlags & { name?: string; scripts: boolean; json: boolean }) => {
      checkFile(file);
      if (o.name !== undefined) checkName(o.name);
      const area = o.scripts ? 'scripts' : 'uploads';
      await withClient(o, async (client) => {
        const stored = await client.putFile(area, file, o.name);
        if (o.json) return json({ ...stored, area });
        print(`uploaded ${stored.name} (${bytes(stored.size)}) to ${area}`);
      });
    });

  connectionOptions(
    program
      .command('files')
      .description('list the files stored on the master: uploads (default) or the script library')
      .addArgument(new Argument('[area]', 'uploads or scripts').choices(['uploads', 'scripts']).default('uploads'))
      .addOption(jsonOption()),
  )
    .addHelpText('after', '\nExamples:\n  titan files\n  titan files scripts --json\n')
    .action(async (area: 'uploads' | 'scripts', o: ConnectionFlags & { json: boolean }) => {
      await withClient(o, async (client) => {
        const files = await client.listFiles(area);
        if (o.json) return json(files);
        if (files.length === 0) return print(`no files in ${area}`);
        print(table(['NAME', 'SIZE', 'MODIFIED'], files.map((f) => [f.name, bytes(f.size), when(f.modifiedAt)])));
      });
    });

  connectionOptions(
    program
      .command('deploy')
      .description('deploy a pipeline YAML (as titan submit does) or a script as a service, kept up and waited for until it is ready')
      .argument('<file>', 'a pipeline (.yaml, .yml), a local script, or the name of a script in the library')
      .argument('[port]', 'a service: its fixed port (default or 0: one from the master\'s range)', portArgument)
      .argument('[requirement]', 'a service: the capability its worker must have', DEFAULT_CAPABILITY)
      .addOption(new Option('--readiness <probe>', 'a service: tcp, none, or an HTTP path such as /health').default('tcp'))
      .addOption(new Option('--restart <policy>', 'a service: when to restart it').choices(RESTART_POLICIES).default('always'))
      .option('--wait', 'a pipeline: follow the run with live progress (as titan submit --wait)', false)
      .addOption(jsonOption('print the result as JSON')),
  )
    .addHelpText(
      'after',
      `
Examples:
  titan deploy pipeline.yaml --wait      submit a pipeline and follow it
  titan deploy api.py 8080               store api.py in the script library, serve it on port 8080
  titan deploy api.py 0 GPU              the same on a GPU worker, on a port the master picks
`,
    )
    .action(async (file: string, port: number | undefined, requirement: string, o: ConnectionFlags & { readiness: string; restart: RestartPolicy; wait: boolean; json: boolean }, command: Command) => {
      if (/\.ya?ml$/i.test(file)) {
        if (port !== undefined || command.args.length > 1) throw new UsageError('a pipeline takes no port or requirement: its YAML says what each job needs');
        const submit = program.commands.find((c) => c.name() === 'submit');
        if (!submit) throw new Error('the submit command is missing');
        await submit.parseAsync([file, ...(o.wait ? ['--wait'] : []), ...(o.json ? ['--json'] : []), ...connectionArgs(o)], { from: 'user' });
        return;
      }
      if (o.wait) throw new UsageError('--wait applies to a pipeline; a service is always waited for until it is ready');
      if (!CapabilitySchema.safeParse(requirement).success) throw new UsageError(`"${requirement}" is not a capability (letters, digits, "_" and "-")`);
      const readiness = ReadinessSchema.safeParse(o.readiness);
      if (!readiness.success) throw new UsageError(`--readiness must be tcp, none or an HTTP path starting with "/", got "${o.readiness}"`);
      await withClient(o, async (client) => {
        let script: ScriptSource;
        if (existsSync(file)) {
          checkFile(file);
          const stored = await client.putFile('scripts', file);
          process.stderr.write(dim(`stored ${stored.name} (${bytes(stored.size)}) in the script library\n`));
          script = file;
        } else {
          script = await resolveScript(client, file);
        }
        const { runId, jobId } = await client.runScript(script, [], {
          kind: 'service',
          requirement,
          service: { readiness: readiness.data, restart: o.restart, ...(port !== undefined && port !== 0 && { port }) },
        });
        await awaitService(client, runId, jobId, o);
      });
    });

  connectionOptions(
    program
      .command('dag')
      .description("submit a DAG in Titan's line format (id|RUN_PAYLOAD|file|args|base64|requirement|priority|delayMs|[parents], joined by \";\")")
      .argument('[payload]', 'the DAG (quote it); or use --file')
      .option('--file <file>', 'read the DAG from this file ("-": standard input)')
      .option('--wait', 'follow the run with live progress; exit 0 only if every job completed', false)
      .addOption(jsonOption('print the result as JSON')),
  )
    .addHelpText(
      'after',
      `
Examples:
  titan dag "hello|RUN_PAYLOAD|hello.py|a b|$(base64 -w0 hello.py)|GENERAL|1|0|[]" --wait
  titan dag --file dag.txt
`,
    )
    .action(async (payload: string | undefined, o: ConnectionFlags & { file?: string; wait: boolean; json: boolean }) => {
      if ((payload === undefined) === (o.file === undefined)) throw new UsageError('give the DAG either as an argument or with --file, not both');
      let text = payload ?? '';
      if (o.file !== undefined) {
        const file = o.file;
        try {
          text = readFileSync(file === '-' ? 0 : file, 'utf8');
        } catch (err) {
          throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
        }
      }
      text = text.trim();
      if (text === '') throw new UsageError('the DAG is empty');
      // Checked here as the master will, so a malformed DAG is bad input (exit 2) and names its line.
      try {
        parseV1Dag(text);
      } catch (err) {
        if (err instanceof V1DagError) throw new UsageError(`bad DAG: ${err.message}`);
        throw err;
      }
      await withClient(o, async (client) => {
        const submitted = await client.submitTitanDag(text);
        if (!o.wait) return o.json ? json(submitted) : print(`submitted run ${submitted.runId} with ${submitted.jobs.length} jobs (${submitted.jobs.join(', ')})`);
        await followRun(client, submitted.runId, o);
      });
    });

  connectionOptions(
    shutdownOptions(
      program
        .command('shutdown')
        .description("drain a worker, then stop its process (Titan's shutdown; the same as titan workers shutdown)")
        .argument('<worker>', 'host:port, as titan workers shows (or the host, with the port next)')
        .argument('[port]', "the worker's port, when the host is given alone (Titan's shutdown <host> <port>)"),
    ),
  )
    .addHelpText('after', '\nExamples:\n  titan shutdown 10.0.0.7:8101\n  titan shutdown 10.0.0.7 8101 --force\n')
    .action(async (worker: string, port: string | undefined, o: ShutdownFlags) => {
      if (port !== undefined && !/^\d{1,5}$/.test(port)) throw new UsageError(`"${port}" is not a port`);
      await shutdownWorker(port === undefined ? worker : `${worker}:${port}`, o);
    });

  connectionOptions(
    program
      .command('retry')
      .description('run a DEAD or CANCELLED job again in its run, with a fresh retry budget (what it skipped waits for it again)')
      .argument('<job>', 'runId/jobId, or a job id for its latest run')
      .option('--wait', 'follow the run with live progress; exit 0 only if every job then completed', false)
      .addOption(jsonOption('print the job (with --wait: the final run) as JSON')),
  )
    .addHelpText('after', '\nExamples:\n  titan retry r1a2b3c/train\n  titan retry train --wait\n')
    .action(async (ref: string, o: ConnectionFlags & { wait: boolean; json: boolean }) => {
      await withClient(o, async (client) => {
        const job = await client.retryJob(ref);
        if (!o.wait) return o.json ? json(job) : print(`${job.ref} ${colourStatus(job.status)}: retrying (titan logs -f ${job.ref} follows it)`);
        if (!o.json) process.stderr.write(dim(`retrying ${job.ref}\n`));
        await followRun(client, job.runId, o);
      });
    });

  connectionOptions(
    program
      .command('rerun')
      .description("submit a run's jobs again as a new run")
      .argument('<runId>')
      .option('--wait', 'follow the new run with live progress; exit 0 only if every job completed', false)
      .addOption(jsonOption('print the result as JSON')),
  )
    .addHelpText('after', '\nExamples:\n  titan rerun r1a2b3c\n  titan rerun r1a2b3c --wait\n')
    .action(async (runId: string, o: ConnectionFlags & { wait: boolean; json: boolean }) => {
      await withClient(o, async (client) => {
        const submitted = await client.rerun(runId);
        if (!o.wait) return o.json ? json(submitted) : print(`submitted run ${submitted.runId} (a rerun of ${runId}) with ${submitted.jobs.length} jobs`);
        if (!o.json) process.stderr.write(dim(`submitted run ${submitted.runId} (a rerun of ${runId})\n`));
        await followRun(client, submitted.runId, o);
      });
    });

  connectionOptions(
    program
      .command('delete-run')
      .description('delete finished runs: their jobs, attempts, gate decisions, logs and artifacts (a running run is refused)')
      .argument('<runId...>')
      .addOption(jsonOption('print {runId, deleted} for each')),
  )
    .addHelpText('after', '\nExamples:\n  titan delete-run r1a2b3c\n  titan delete-run r1a2b3c r4d5e6f --json\n')
    .action(async (runIds: string[], o: ConnectionFlags & { json: boolean }) => {
      await withClient(o, async (client) => {
        const results: { runId: string; deleted: boolean }[] = [];
        for (const runId of runIds) results.push({ runId, deleted: await client.deleteRun(runId) });
        if (o.json) return json(results);
        for (const r of results) print(r.deleted ? `deleted run ${r.runId}` : `no run ${r.runId}`);
        if (results.some((r) => !r.deleted)) process.exitCode = 1;
      });
    });

  connectionOptions(program.command('version').description("this CLI's version and, when the master answers, the master's").addOption(jsonOption()))
    .addHelpText('after', '\nExamples:\n  titan version\n  titan version --master 10.0.0.5:9090 --json\n')
    .action(async (o: ConnectionFlags & { json: boolean }) => {
      const master = await masterVersion(o);
      if (o.json) return json({ version: VERSION, node: process.version, master });
      print(`titan ${bold(VERSION)} (node ${process.version})`);
      print(`master ${master.address}: ${master.serverVersion !== undefined ? `${master.serverVersion} (protocol ${master.protocol})` : master.error}`);
    });
}

interface MasterVersion {
  address: string;
  reachable: boolean;
  serverVersion?: string;
  protocol?: number;
  error?: string;
}

/**
 * The master's HELLO reply (its version), or why there is none; never throws for an unreachable
 * master. With several addresses, the first that answers, else why the first did not.
 */
async function masterVersion(flags: ConnectionFlags): Promise<MasterVersion> {
  const masters = mastersFor(flags);
  const token = findToken(flags);
  const { tls } = clientTls(flags);
  let first: MasterVersion | null = null;
  for (const master of masters) {
    const answer = await versionOf(master, token, tls);
    if (answer.serverVersion !== undefined) return answer;
    first ??= answer;
  }
  return first as MasterVersion;
}

function versionOf({ host, port }: MasterEndpoint, token: string | undefined, tls: TlsClientOptions | undefined): Promise<MasterVersion> {
  const address = formatMaster({ host, port });
  const explain = (err: Error, connected: boolean): string => explainConnectFailure(err, address, { tls: tls !== undefined, connected })?.message ?? err.message;
  return new Promise((resolve) => {
    const { socket, ready } = dial(host, port, tls);
    let done = false;
    const finish = (result: MasterVersion): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ address, reachable: false, error: 'not reachable (no answer within 5 s)' }), 5000);
    let connected = false;
    socket.once('error', (err) => finish({ address, reachable: connected, error: `not reachable (${explain(err, connected)})` }));
    socket.once(ready, () => {
      connected = true;
      const peer = new Peer(socket, { server: false });
      peer.hello({ ...(token !== undefined && { token }), role: 'client', versions: [2] }).then(
        (reply) => {
          const r = reply as HelloResult;
          finish({ address, reachable: true, serverVersion: r.serverVersion, protocol: r.version });
        },
        (err: Error) => finish({ address, reachable: true, error: refusal(err, explain) }),
      );
    });
  });
}

/** Why a master that was reached gave no version. */
function refusal(err: Error, explain: (err: Error, connected: boolean) => string): string {
  if (!(err instanceof TitanError)) return `no answer (${explain(err, true)})`;
  if (err.code === 'UNAUTHORIZED') return `reachable, but it refused the token (${err.message})`;
  if (err.code === 'NOT_LEADER') return `reachable, a standby${leaderHint(err) === undefined ? '' : ` (the leader is ${leaderHint(err)})`}`;
  return `no answer (${explain(err, true)})`;
}
