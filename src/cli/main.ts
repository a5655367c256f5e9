/**
 * The `titan` command. Exit codes: 0 success; 1 the work failed (a job or run did not complete);
 * 2 bad command-line input or pipeline file; 3 the master could not be reached or refused.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { TitanError } from '../core/errors.js';
import { type JobStatus, ReadinessSchema, RESTART_POLICIES, type RestartPolicy, RUN_STATUSES, TagSchema } from '../core/model.js';
import { type JobView, RunCursorSchema } from '../protocol/methods.js';
import { VERSION } from '../core/version.js';
import { registerArtifactCommands } from './artifact-commands.js';
import { registerCompletionCommand } from './completion.js';
import { addExamples } from './help-examples.js';
import { registerLogsCommand } from './log-commands.js';
import { registerMcpCommand } from './mcp-command.js';
import { writePidFile } from './pid-file.js';
import { readToken, workerToken } from '../protocol/derived-tokens.js';
import { tlsEnvFor } from '../protocol/tls-dial.js';
import { clientTls, type ConnectionFlags, connectionOptions, findToken, json, loadPart, parseHostPort, print, type TlsFlags, tlsOptions, UsageError, withClient } from './connection.js';
import { bold, bytes, colourStatus, dim, duration, printable, table, when } from './format.js';
import { registerSchedule, registerScheduleCommands } from './schedule-commands.js';
import { registerServiceCommands } from './service-commands.js';
import { registerShellCommand } from './shell.js';
import { registerStoreCommands } from './store-commands.js';
import { type ClusterFlags, clusterConfig, clusterOptions } from './cluster-options.js';
import { registerTitanCommands, resolveScript, shutdownWorker } from './titan-commands.js';
import { awaitService, followRun } from './waiting.js';

const int = (name: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
  return n;
};

const seconds = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
};


const program = new Command('titan')
  .description('Titan: run scripts, pipelines and services across many machines')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  // Commander exits 1 on bad options; this CLI's contract says bad command-line input is 2.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .addHelpText(
    'after',
    `
Examples:
  titan up                               start a local master, a worker and the HTTP endpoints
  titan run hello.py -- arg1 "two words" run one script and show its output
  titan submit pipeline.yaml --wait      run a pipeline and follow its progress
  titan logs <job> -f                    follow a job's output
  titan shell                            Titan's interactive prompt, with history
  titan completion bash                  a completion script (see titan completion --help)
`,
  );

clusterOptions(
  program
  .command('up')
  .description('start a master and one local worker in this process (the local cluster)')
  .option('--data-dir <dir>', 'where state, logs and the token live', 'titan-data')
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .addOption(new Option('--port <port>', 'TCP port for clients and workers').default(9090).argParser(int('--port', 0, 65535)))
  .addOption(new Option('--http-port <port>', 'HTTP port').default(5000).argParser(int('--http-port', 0, 65535)))
  .addOption(new Option('--slots <n>', 'slots of the local worker').default(4).argParser(int('--slots', 1, 1024)))
  .option('--capabilities <list>', 'capabilities of the local worker, comma-separated', 'GENERAL')
  .option('--token <token>', 'cluster token (generated on first start when omitted)')
  .option('--ca <file>', 'with --tls-cert: the CA the local worker trusts for the master (default: the --tls-cert file when it is self-signed)')
  .option('--cert <file>', "with --tls-client-ca: the local worker's client certificate (PEM)")
  .option('--key <file>', 'the private key of --cert'),
).action(async (o: ClusterFlags & Omit<TlsFlags, 'tls'> & { dataDir: string; host: string; port: number; httpPort: number; slots: number; capabilities: string; token?: string }) => {
    const config = clusterConfig(o);
    if (!config.tls && (o.ca !== undefined || o.cert !== undefined || o.key !== undefined)) throw new UsageError('--ca, --cert and --key of `titan up` are for its local worker on a TLS master: add --tls-cert and --tls-key');
    // The local worker dials this master as any worker would, with TLS when the master serves it.
    const workerTls = config.tls ? clientTls({ tls: true, ca: o.ca ?? selfSignedCa(o.tlsCert), ...(o.cert !== undefined && { cert: o.cert }), ...(o.key !== undefined && { key: o.key }) }) : undefined;
    if (config.tls?.requestCert && workerTls?.files.cert === undefined) throw new UsageError('with --tls-client-ca the local worker needs a client certificate: add --cert and --key');
    const [{ startMaster }, { WorkerAgent, ProcessExecutor, Reaper, spawnEphemeralWorker }] = await Promise.all([loadPart('titan up', 'the master bundle or a Titan checkout', () => import('../server/start.js')), loadWorker()]);
    const m = await startMaster({ dataDir: o.dataDir, host: o.host, port: o.port, httpPort: o.httpPort, ...config, ...(o.token !== undefined && { token: o.token }) });
    const masterHost = o.host === '0.0.0.0' ? '127.0.0.1' : o.host;
    const workDir = resolve(m.dataDir, 'worker');
    const log = (line: string): void => void process.stderr.write(`${dim('worker:')} ${line}\n`);
    const reaper = Reaper.start();
    const agent = new WorkerAgent({
      masterHost,
      masterPort: m.port,
      token: m.token,
      ...(workerTls?.tls && { tls: workerTls.tls, tlsFiles: workerTls.files }),
      capabilities: splitList(o.capabilities),
      slots: o.slots,
      permanent: true,
      host: hostname(),
      port: 0,
      workDir,
      executor: new ProcessExecutor({ reaper }),
      log,
      // The local worker shares this process with the master: shutting it down only drains it.
      onShutdown: () => void agent.drain(30_000),
      onFatal: (err) => log(`stopped: ${err.message}`),
      onSpawnWorker: (request) => void spawnEphemeralWorker({ entry: process.argv[1] ?? '', master: `${masterHost}:${m.port}`, token: m.token, name: hostname(), workDir, env: workerTls ? tlsEnvFor(workerTls.files) : {} }, agent.id ?? '', request, log),
    });
    await agent.start();
    const shown = o.host === '0.0.0.0' ? hostname() : o.host;
    print(`${bold('Titan is up.')}
  master      ${shown}:${m.port}  (clients and workers)
  dashboard   ${m.tls ? 'https' : 'http'}://${shown}:${m.httpPort}/  (log in with the token; also /api, /metrics, /healthz)${m.tls ? `
  tls         both ports${config.tls?.requestCert ? ', client certificates required (mutual TLS)' : ''}; clients use --ca <file> or TITAN_CA` : ''}
  data        ${m.dataDir}
  token       ${m.token}${m.tokenCreated ? '  (new; saved in the data directory)' : ''}
  worker      ${agent.id} with ${o.slots} slots [${splitList(o.capabilities).join(', ')}]

From another shell in this folder (or with TITAN_TOKEN set):
  titan run hello.py -- arg1 "two words"
  titan workers
Press Ctrl-C to stop.`);
    await untilSignal(async () => {
      await agent.drain(10_000);
      reaper.close();
      await m.close();
    });
  });

clusterOptions(
  program
  .command('master')
  .description('run the master (control plane) in the foreground')
  .option('--data-dir <dir>', 'where state, logs and the token live', 'titan-data')
  .option('--host <address>', 'address to listen on', '0.0.0.0')
  .addOption(new Option('--port <port>', 'TCP port for clients and workers').default(9090).argParser(int('--port', 0, 65535)))
  .addOption(new Option('--http-port <port>', 'HTTP port').default(5000).argParser(int('--http-port', 0, 65535)))
  .option('--token <token>', 'cluster token (default: TITAN_TOKEN, else generated on first start)')
  .addOption(new Option('--worker-timeout <seconds>', 'declare a silent worker dead after this long').default(10).argParser(seconds))
  .addOption(new Option('--reclaim-grace <seconds>', 'after a restart, how long running attempts wait for their workers').default(15).argParser(seconds))
  .addOption(new Option('--max-artifact-mb <n>', 'the largest artifact accepted, in MiB').default(512).argParser(int('--max-artifact-mb', 1, 1_048_576)))
  .addOption(new Option('--max-log-mb <n>', "the most output one attempt keeps on the master, in MiB (the rest is dropped with a note)").default(128).argParser(int('--max-log-mb', 1, 1_048_576)))
  .option('--pid-file <path>', 'write this process id there once listening (removed on exit)'),
).action(async (o: ClusterFlags & { dataDir: string; host: string; port: number; httpPort: number; token?: string; workerTimeout: number; reclaimGrace: number; maxArtifactMb: number; maxLogMb: number; pidFile?: string }) => {
    const token = o.token ?? process.env.TITAN_TOKEN;
    const { startMaster } = await loadPart('titan master', 'the master bundle or a Titan checkout', () => import('../server/start.js'));
    const m = await startMaster({
      dataDir: o.dataDir,
      host: o.host,
      port: o.port,
      httpPort: o.httpPort,
      workerTimeoutMs: o.workerTimeout * 1000,
      reclaimGraceMs: o.reclaimGrace * 1000,
      maxArtifactBytes: o.maxArtifactMb * 1024 * 1024,
      maxLogBytes: o.maxLogMb * 1024 * 1024,
      ...clusterConfig(o),
      ...(token !== undefined && { token }),
    });
    print(`titan master listening on ${o.host}:${m.port} (${m.tls ? 'https' : 'http'} ${m.httpPort}), data in ${m.dataDir}`);
    if (m.tls) print(`tls: on both ports, dashboard at https://${o.host === '0.0.0.0' ? hostname() : o.host}:${m.httpPort}/${o.tlsClientCa !== undefined ? '; client certificates required (mutual TLS)' : ''}`);
    print(`token: ${m.token}${m.tokenCreated ? ' (new; saved in the data directory)' : ''}`);
    print(`workers join with: titan worker --master <this-host>:${m.port} --token <token>${m.tls ? ` --ca <ca-file>${o.tlsClientCa !== undefined ? ' --cert <file> --key <file>' : ''}` : ''}`);
    if (o.pidFile !== undefined) writePidFile(o.pidFile);
    await untilSignal(() => m.close());
  });

tlsOptions(
  program
  .command('worker')
  .description('run a worker that joins a master and executes jobs')
  .option('--master <host:port>', 'the master to join', '127.0.0.1:9090')
  .option('--token <token>', 'cluster token (default: TITAN_TOKEN, or the token file in ./titan-data)')
  .option('--data-dir <dir>', 'data directory whose token file to use')
  .option('--capabilities <list>', 'capabilities, comma-separated (e.g. GPU,HIGH_MEM)', 'GENERAL')
  .addOption(new Option('--slots <n>', 'jobs run at once').default(4).argParser(int('--slots', 1, 1024)))
  .option('--permanent', 'never scaled down or shut down automatically', false)
  .addOption(new Option('--port <port>', 'advertised port in the worker name host:port (0: the master picks)').default(0).argParser(int('--port', 0, 65535)))
  .option('--name <host>', 'advertised host name', hostname())
  .option('--work-dir <dir>', 'where scripts are cached and attempts run', 'titan-worker')
  .addOption(new Option('--executor <kind>', 'process (default) or noop (benchmarks: completes without running anything)').choices(['process', 'noop']).default('process').hideHelp())
  .option('--spawned-by <worker>', 'set by the autoscaler on the ephemeral workers it starts: the permanent worker that spawned this one')
  .addOption(new Option('--keep-runs-hours <n>', 'remove run folders (attempt outputs, unpacked archives) and cached scripts untouched this long').default(72).argParser(int('--keep-runs-hours', 1, 87_600)))
  .option('--pid-file <path>', 'write this process id there at start (removed on exit)'),
).action(async (o: TlsFlags & { master: string; token?: string; dataDir?: string; capabilities: string; slots: number; permanent: boolean; port: number; name: string; workDir: string; executor: string; spawnedBy?: string; pidFile?: string; keepRunsHours: number }) => {
    const { host, port } = parseHostPort(o.master, 9090);
    const token = findToken(o);
    const tls = clientTls(o);
    if (!token) throw new UsageError('a worker needs the cluster token: pass --token, set TITAN_TOKEN, or run it where the master keeps titan-data');
    if (o.spawnedBy !== undefined && o.permanent) throw new UsageError('--spawned-by marks an ephemeral worker; it cannot be --permanent');
    const { WorkerAgent, ProcessExecutor, NoopExecutor, Reaper, spawnEphemeralWorker } = await loadWorker();
    const workDir = resolve(o.workDir);
    const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
    const reaper = o.executor === 'process' ? Reaper.start() : null;
    const agent = new WorkerAgent({
      masterHost: host,
      masterPort: port,
      token,
      ...(tls.tls && { tls: tls.tls, tlsFiles: tls.files }),
      capabilities: splitList(o.capabilities),
      slots: o.slots,
      permanent: o.permanent,
      host: o.name,
      port: o.port,
      workDir,
      executor: o.executor === 'noop' ? new NoopExecutor() : new ProcessExecutor(reaper ? { reaper } : {}),
      log,
      onShutdown: () => void stop().then(() => process.exit(0)),
      // Joined once, then refused (a changed token or certificate): exit with an error, so a supervisor notices.
      onFatal: (err) => {
        process.stderr.write(`titan worker: ${err.message}\n`);
        reaper?.close();
        process.exit(3);
      },
      ...(o.spawnedBy !== undefined && { spawnedBy: o.spawnedBy }),
      keepRunsMs: o.keepRunsHours * 3600_000,
      ...(o.permanent && {
        onSpawnWorker: (request) => void spawnEphemeralWorker({ entry: process.argv[1] ?? '', master: `${host}:${port}`, token, name: o.name, workDir, env: tls.tls ? tlsEnvFor(tls.files) : {} }, agent.id ?? '', request, log),
      }),
    });
    const stop = async (): Promise<void> => {
      process.stderr.write('draining: finishing running jobs (signal again to stop now)\n');
      await agent.drain(30_000);
      reaper?.close();
    };
    if (o.pidFile !== undefined) writePidFile(o.pidFile);
    agent.start().catch((err: Error) => {
      process.stderr.write(`titan worker: ${err.message}\n`);
      process.exit(3);
    });
    await untilSignal(stop);
  });

connectionOptions(
  program
    .command('run')
    .description('run one script on the cluster, show its output and exit with its status')
    .argument('<script>', 'a local script file (.py, .js, .sh or an executable), or else the name of a script in the library (titan files scripts)')
    .argument('[args...]', 'arguments for the script (put them after --)')
    .option('--requirement <capability>', 'capability the worker must have', 'GENERAL')
    .addOption(new Option('--priority <n>', 'higher runs first').default(1).argParser(int('--priority', -1_000_000, 1_000_000)))
    .addOption(new Option('--retries <n>', 'retries after a failure').default(0).argParser(int('--retries', 0, 100)))
    .addOption(new Option('--timeout <seconds>', 'kill the job after this long').argParser(seconds))
    .option('--env <KEY=VALUE>', 'an environment variable for the job (repeatable)', (pair: string, all: string[] = []) => [...all, pair])
    .option('--detach', 'submit and print the job reference without waiting', false)
    .option('--service', 'run it as a service: kept up (restarted by --restart), given a port as $PORT and {port}; waits until it is ready', false)
    .addOption(new Option('--port <port>', 'a service: its fixed port (default: a free one from the master\'s range)').argParser(int('--port', 1, 65535)))
    .addOption(new Option('--readiness <probe>', 'a service: tcp, none, or an HTTP path such as /health').default('tcp'))
    .addOption(new Option('--restart <policy>', 'a service: when to restart it').choices(RESTART_POLICIES).default('always'))
    .option('--json', 'print the final job (with --detach: its reference) as JSON instead of its output', false),
).action(async (script: string, args: string[], o: ConnectionFlags & { requirement: string; priority: number; retries: number; timeout?: number; env?: string[]; detach: boolean; service: boolean; port?: number; readiness: string; restart: RestartPolicy; json: boolean }) => {
  if (!o.service && o.port !== undefined) throw new UsageError('--port applies to a service: add --service');
  const readiness = ReadinessSchema.safeParse(o.readiness);
  if (!readiness.success) throw new UsageError(`--readiness must be tcp, none or an HTTP path starting with "/", got "${o.readiness}"`);
  await withClient(o, async (client) => {
    const source = await resolveScript(client, script);
    const { runId, jobId } = await client.runScript(source, args, {
      requirement: o.requirement,
      priority: o.priority,
      retries: o.retries,
      env: parseEnv(o.env ?? []),
      ...(o.timeout !== undefined && { timeoutMs: Math.round(o.timeout * 1000) }),
      ...(o.service && { kind: 'service', service: { readiness: readiness.data, restart: o.restart, ...(o.port !== undefined && { port: o.port }) } }),
    });
    const ref = `${runId}/${jobId}`;
    if (o.detach) return o.json ? json({ runId, jobId, ref }) : print(ref);
    if (o.service) return void (await awaitService(client, runId, jobId, o));
    process.stderr.write(dim(`submitted ${ref}\n`));
    const exitCodeOf = (job: JobView): number => (job.status === 'COMPLETED' ? 0 : job.exitCode && job.exitCode > 0 ? job.exitCode : 1);
    if (o.json) {
      const job = await client.waitForJob(ref);
      json(job);
      process.exitCode = exitCodeOf(job);
      return;
    }
    let lastAttempt = 0;
    const it = client.followLogs(ref);
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      if (next.value.attempt !== lastAttempt && lastAttempt !== 0) process.stderr.write(dim(`--- attempt ${next.value.attempt} ---\n`));
      lastAttempt = next.value.attempt;
      process.stdout.write(next.value.data);
    }
    const { job } = await client.getJob(ref);
    process.stderr.write(`${ref} ${colourStatus(job.status)}${job.exitCode !== null ? ` (exit code ${job.exitCode})` : ''}${job.error && job.status !== 'COMPLETED' ? `: ${printable(job.error)}` : ''}\n`);
    process.exitCode = exitCodeOf(job);
  });
});

connectionOptions(
  program
    .command('submit')
    .description('submit a pipeline YAML file as a new run (one with a schedule is registered to run at its fire times)')
    .argument('<pipeline.yaml>')
    .option('--wait', 'follow the run until it finishes (or only its services still run); exit 0 only if every job completed or is a service that is up', false)
    .option('--agent-run <id>', 'make this run a stage of an agent run')
    .option('--now', 'a pipeline with a schedule: also run it once now (--wait then follows that run)', false)
    .option('--json', 'print the result as JSON', false),
).action(async (file: string, o: ConnectionFlags & { wait: boolean; json: boolean; agentRun?: string; now: boolean }) => {
  const { loadPipeline } = await import('./pipeline.js');
  const pipeline = loadPipeline(file);
  // A pipeline with a schedule is registered under its name, not run (unless --now).
  const { schedule, ...input } = o.agentRun === undefined ? pipeline : { ...pipeline, agentRunId: o.agentRun };
  if (o.now && !schedule) throw new UsageError('--now applies to a pipeline with a schedule; without one, submit runs it at once');
  if (schedule && o.wait && !o.now) throw new UsageError('a pipeline with a schedule is registered, not run: add --now to also run it once (--wait then follows that run)');
  await withClient(o, async (client) => {
    let runId: string;
    if (schedule) {
      const ran = await registerSchedule(client, input, schedule, o);
      if (ran === null || !o.wait) return;
      runId = ran;
    } else {
      const submitted = await client.submit(input);
      if (!o.wait) return o.json ? json(submitted) : print(`submitted run ${submitted.runId} (${pipeline.name}) with ${submitted.jobs.length} jobs`);
      runId = submitted.runId;
    }
    await followRun(client, runId, o);
  });
});

connectionOptions(program.command('status').description("show a job's status (runId/jobId, or a job id for its latest run)").argument('<job>').option('--json', 'print JSON', false)).action(
  async (ref: string, o: ConnectionFlags & { json: boolean }) => {
    await withClient(o, async (client) => {
      const { job, attempts } = await client.getJob(ref);
      if (o.json) return json({ job, attempts });
      print(`${bold(job.ref)}  ${colourStatus(job.status)}`);
      if (job.spec.script) print(`  script     ${job.spec.script.name} ${job.spec.args.map((a) => JSON.stringify(a)).join(' ')}`);
      else print(`  gate       ${job.spec.message ?? '(no message)'}`);
      print(`  requires   ${job.spec.requirement}   priority ${job.spec.priority}   retries ${job.spec.retries}`);
      if (job.spec.dependsOn.length > 0) print(`  after      ${job.spec.dependsOn.join(', ')}`);
      if (job.exitCode !== null) print(`  exit code  ${job.exitCode}`);
      if (job.error && job.status !== 'COMPLETED') print(`  error      ${job.error}`);
      if (attempts.length > 0) {
        print('');
        print(table(['ATTEMPT', 'WORKER', 'STARTED', 'TOOK', 'OUTCOME', 'DETAIL'], attempts.map((a) => [String(a.attempt), a.workerId, when(a.startedAt), duration(a.finishedAt === null ? null : a.finishedAt - a.startedAt), a.outcome ? colourStatus(a.outcome) : colourStatus('RUNNING'), a.error ?? (a.exitCode !== null ? `exit ${a.exitCode}` : '')])));
      }
    });
  },
);

registerLogsCommand(program);

connectionOptions(
  program
    .command('cancel')
    .description('cancel a job (and skip what depends on it), or a whole run with --run')
    .argument('<job-or-run>')
    .option('--run', 'the argument is a run id: cancel all of it', false)
    .option('--json', 'print the cancelled job (with --run: {runId, cancelled}) as JSON', false),
).action(async (ref: string, o: ConnectionFlags & { run: boolean; json: boolean }) => {
  await withClient(o, async (client) => {
    if (o.run) {
      const cancelled = await client.cancelRun(ref);
      return o.json ? json({ runId: ref, cancelled }) : print(`cancelled ${cancelled} jobs of run ${ref}`);
    }
    const job = await client.cancel(ref);
    if (o.json) return json(job);
    print(`${job.ref} ${colourStatus(job.status)}`);
  });
});

connectionOptions(
  program
    .command('runs')
    .description('list recent runs')
    .addOption(new Option('--status <status>', 'only runs in this status').choices([...RUN_STATUSES]))
    .addOption(new Option('--limit <n>', 'how many').default(20).argParser(int('--limit', 1, 1000)))
    .option('--tag <tag>', 'only runs carrying this tag (a pipeline\'s tags:)')
    .option('--after <cursor>', 'the page after this one: <createdAt>:<runId> of the last run listed (printed as the next page\'s command)')
    .option('--json', 'print JSON', false),
).action(async (o: ConnectionFlags & { status?: (typeof RUN_STATUSES)[number]; limit: number; tag?: string; after?: string; json: boolean }) => {
  if (o.tag !== undefined && !TagSchema.safeParse(o.tag).success) throw new UsageError(`--tag "${o.tag}" is not a tag (letters, digits and "_ . : = -")`);
  if (o.after !== undefined && !RunCursorSchema.safeParse(o.after).success) throw new UsageError(`--after "${o.after}" is not a cursor: give <createdAt>:<runId> of the last run of the previous page`);
  await withClient(o, async (client) => {
    const { runs, next } = await client.runsPage({ limit: o.limit, ...(o.status && { status: o.status }), ...(o.tag !== undefined && { tag: o.tag }), ...(o.after !== undefined && { after: o.after }) });
    if (o.json) return json(runs);
    if (runs.length === 0) return print(o.tag === undefined && o.status === undefined ? 'no runs yet' : 'no matching runs');
    print(
      table(
        ['RUN', 'NAME', 'STATUS', 'JOBS', 'CREATED', 'TOOK', 'TAGS'],
        runs.map((r) => [r.runId, r.name, colourStatus(r.status), summarise(r.counts, r.total), when(r.createdAt), duration((r.finishedAt ?? Date.now()) - r.createdAt), r.tags.join(',')]),
      ),
    );
    if (next !== null) {
      const filters = [o.status && `--status ${o.status}`, o.tag !== undefined && `--tag ${o.tag}`, o.limit !== 20 && `--limit ${o.limit}`].filter(Boolean).join(' ');
      process.stderr.write(`more runs: titan runs --after ${next}${filters && ` ${filters}`}\n`);
    }
  });
});

const workersCommand = program.command('workers').description('workers: list, drain, shut down');
connectionOptions(workersCommand.command('list', { isDefault: true }).description('list workers').option('--json', 'print JSON', false)).action(async (o: ConnectionFlags & { json: boolean }) => {
  await withClient(o, async (client) => {
    const workers = await client.workers();
    if (o.json) return json(workers);
    if (workers.length === 0) return print('no workers connected');
    print(
      table(
        ['WORKER', 'STATE', 'CAPABILITIES', 'LOAD', 'KIND', 'LAST SEEN', 'SERVICES'],
        workers.map((w) => [
          w.id,
          w.state,
          w.capabilities.join(','),
          `${w.running}/${w.slots}`,
          w.permanent ? 'permanent' : w.spawnedBy ? `ephemeral (autoscaled by ${w.spawnedBy})` : 'ephemeral',
          `${duration(Date.now() - w.lastSeen)} ago`,
          w.services.map((v) => `${v.ref}${v.port === null ? '' : `:${v.port}`}`).join(', ') || '-',
        ]),
      ),
    );
  });
});

connectionOptions(
  workersCommand
    .command('drain')
    .description('let a worker finish what it runs and take no more work')
    .argument('<worker>', 'host:port, as titan workers shows')
    .option('--json', 'print the worker as JSON', false),
).action(async (id: string, o: ConnectionFlags & { json: boolean }) => {
  await withClient(o, async (client) => {
    const w = await client.drainWorker(id);
    if (o.json) return json(w);
    print(`${w.id} draining (${w.running} running)`);
  });
});

connectionOptions(
  workersCommand
    .command('shutdown')
    .description('drain a worker, then stop its process')
    .argument('<worker>', 'host:port, as titan workers shows')
    .option('--force', 'also shut down a permanent worker', false)
    .option('--json', 'print the worker as JSON', false),
).action((id: string, o: ConnectionFlags & { force: boolean; json: boolean }) => shutdownWorker(id, o));

connectionOptions(program.command('stats').description('cluster statistics').option('--json', 'print JSON', false)).action(async (o: ConnectionFlags & { json: boolean }) => {
  await withClient(o, async (client) => {
    const s = await client.stats();
    if (o.json) return json(s);
    print(`uptime      ${duration(s.uptimeMs)}`);
    print(`workers     ${s.workers.connected} connected of ${s.workers.total}, ${s.workers.busySlots}/${s.workers.slots} slots busy`);
    print(`active runs ${s.runs.active}`);
    print(`jobs        ${summarise(s.jobs, Object.values(s.jobs).reduce((a, b) => a + (b ?? 0), 0)) || 'none active'}`);
    print(`totals      ${s.totals.submitted} submitted, ${s.totals.completed} completed, ${s.totals.dead} dead, ${s.totals.attempts} attempts (${s.totals.retried} retries)`);
    if (s.disk) print(`disk        ${bytes(s.disk.freeBytes)} free of ${bytes(s.disk.totalBytes)}`);
    if (s.disk?.low) print(bold(`WARNING: the master's data directory has ${bytes(s.disk.freeBytes)} free, below --min-free-mb (${bytes(s.disk.minFreeBytes)}); once the disk is full, submissions and data bus writes are refused and job output is lost`));
    const pools = Object.entries(s.pools);
    const desired = s.autoscaler.enabled ? s.autoscaler.desired : {};
    if (pools.length > 0) {
      print('');
      print(
        table(
          ['POOL', 'WORKERS', 'SLOTS BUSY', 'QUEUED', 'SERVICES', ...(s.autoscaler.enabled ? ['DESIRED'] : [])],
          pools.map(([name, p]) => [name, String(p.workers), `${p.busySlots}/${p.slots}`, String(p.queued), String(p.services), ...(s.autoscaler.enabled ? [String(desired[name] ?? '-')] : [])]),
        ),
      );
    }
    if (s.autoscaler.enabled) {
      print('');
      print(`autoscaler  ${s.autoscaler.pending} worker(s) starting; recent decisions:`);
      const events = s.autoscaler.events.slice(-10);
      if (events.length === 0) print('  none yet');
      for (const e of events) print(`  ${when(e.at)}  ${e.pool}  ${e.action}${e.workerId ? ` ${e.workerId}` : ''}: ${e.reason}`);
    }
  });
});

const agentRuns = program.command('agent-runs').description('agent runs: several runs grouped by --agent-run / agentRunId');
connectionOptions(
  agentRuns
    .command('list', { isDefault: true })
    .description('agent runs, most recently active first')
    .addOption(new Option('--limit <n>', 'how many').default(20).argParser(int('--limit', 1, 1000)))
    .option('--json', 'print JSON', false),
).action(async (o: ConnectionFlags & { limit: number; json: boolean }) => {
  await withClient(o, async (client) => {
    const list = await client.agentRuns(o.limit);
    if (o.json) return json(list);
    if (list.length === 0) return print('no agent runs yet');
    print(table(['AGENT RUN', 'RUNS', 'ACTIVE', 'STARTED', 'LAST RUN'], list.map((a) => [a.agentRunId, String(a.runs), String(a.active), when(a.firstAt), when(a.lastAt)])));
  });
});
connectionOptions(
  agentRuns
    .command('show')
    .description("an agent run's stages in order, with their status")
    .argument('<agentRunId>')
    .option('-f, --follow', 'keep printing stages as they are added or change, until interrupted', false)
    .option('--json', 'print JSON', false),
).action(async (agentRunId: string, o: ConnectionFlags & { follow: boolean; json: boolean }) => {
  await withClient(o, async (client) => {
    if (!o.follow) {
      const view = await client.agentRun(agentRunId);
      if (o.json) return json(view);
      return print(table(['#', 'RUN', 'NAME', 'STATUS', 'JOBS', 'CREATED'], view.stages.map((r, i) => [String(i + 1), r.runId, r.name, colourStatus(r.status), summarise(r.counts, r.total), when(r.createdAt)])));
    }
    for await (const e of client.followAgentRun(agentRunId)) {
      if (e.type === 'snapshot') for (const r of e.view.stages) print(o.json ? JSON.stringify(r) : `${when(r.createdAt)} ${r.runId} ${r.name} ${colourStatus(r.status)}`);
      else print(o.json ? JSON.stringify(e.run) : `${when(e.run.finishedAt ?? e.run.createdAt)} ${e.run.runId} ${e.run.name} ${colourStatus(e.run.status)}`);
    }
  });
});

connectionOptions(
  program
    .command('gates')
    .description('approval gates waiting for a decision (and, with --history, past decisions)')
    .addOption(new Option('--history <n>', 'also show the latest n decisions').default(0).argParser(int('--history', 0, 1000)))
    .option('--json', 'print JSON', false),
).action(async (o: ConnectionFlags & { history: number; json: boolean }) => {
  await withClient(o, async (client) => {
    const { pending, history } = await client.gates(o.history);
    if (o.json) return json({ pending, history });
    if (pending.length === 0) print('no gates are waiting');
    else print(table(['GATE', 'RUN', 'WAITING', 'MESSAGE'], pending.map((g) => [g.ref, g.runName, duration(Date.now() - g.openedAt), g.message ?? ''])));
    if (history.length > 0) {
      print('');
      print(table(['WHEN', 'GATE', 'DECISION', 'BY', 'COMMENT'], history.map((d) => [when(d.at), `${d.runId}/${d.jobId}`, d.approved ? 'approved' : d.reason === 'timeout' ? 'timed out' : 'rejected', d.by, d.comment ?? ''])));
    }
  });
});

for (const [name, approved] of [['approve', true], ['reject', false]] as const) {
  connectionOptions(
    program
      .command(name)
      .description(approved ? 'approve a gate: its downstream jobs run' : 'reject a gate: it fails and its downstream jobs are skipped')
      .argument('<gate>', 'runId/gateId, or a gate id for its latest run')
      .option('-m, --message <comment>', 'a comment recorded with the decision')
      .option('--by <name>', 'who decides (default: user@host)')
      .option('--json', 'print the decision as JSON', false),
  ).action(async (ref: string, o: ConnectionFlags & { message?: string; by?: string; json: boolean }) => {
    await withClient(o, async (client) => {
      const options = { ...(o.message !== undefined && { comment: o.message }), ...(o.by !== undefined && { by: o.by }) };
      const result = approved ? await client.approve(ref, options) : await client.reject(ref, options);
      if (o.json) return json(result);
      print(`${result.ref} ${approved ? 'approved' : 'rejected'}${result.job ? ` (${colourStatus(result.job.status)})` : ''}`);
    });
  });
}

program
  .command('package')
  .description('build dist/titan-master-bundle.zip and dist/titan-worker-bundle.zip for a multi-VM deployment (in a checkout, after npm run build)')
  .option('--out <dir>', 'folder for the zips (default: dist/ of the checkout)')
  .option('--json', 'print the bundles as JSON', false)
  .action(async (o: { out?: string; json: boolean }) => {
    const { buildBundles, PackagingError } = await loadPart('titan package', 'a Titan checkout', () => import('../packaging/bundles.js'));
    let built;
    try {
      built = buildBundles({ ...(o.out !== undefined && { outDir: o.out }) });
    } catch (err) {
      if (err instanceof PackagingError) throw new UsageError(err.message);
      throw err;
    }
    if (o.json) return json(built.map(({ kind, path, bytes, files, sha256 }) => ({ kind, path, bytes, files, sha256 })));
    for (const b of built) print(`${b.kind.padEnd(6)} ${b.path}  ${bytes(b.bytes)} (${b.files} files)  sha256 ${b.sha256}`);
  });

program
  .command('token')
  .description('print the cluster token this CLI would use, or a token derived from it for one role')
  .option('--data-dir <dir>', 'data directory whose token file to read')
  .addOption(new Option('--role <role>', 'worker: registers workers and nothing else (for worker machines); read: reads only (monitoring)').choices(['worker', 'read']))
  .option('--json', 'print {token}', false)
  .addHelpText('after', '\nExamples:\n  titan token\n  titan token --role worker      what start_worker.sh on a worker machine needs\n  titan token --role read --json\n')
  .action((o: ConnectionFlags & { json: boolean; role?: 'worker' | 'read' }) => {
    const cluster = findToken(o);
    if (!cluster) throw new UsageError('no token: set TITAN_TOKEN or run in the folder where `titan up` keeps titan-data');
    if (o.role !== undefined && /^(worker|read|job)\./.test(cluster)) throw new UsageError('--role derives from the cluster token, and this is already a derived token');
    const token = o.role === 'worker' ? workerToken(cluster) : o.role === 'read' ? readToken(cluster) : cluster;
    if (o.json) return json({ token, ...(o.role !== undefined && { role: o.role }) });
    print(token);
  });

/**
 * The worker's modules, loaded only by the commands that run one: a worker forks a process per
 * attempt, and fork time grows with the parent's memory, so it must not carry the master's.
 */
async function loadWorker(): Promise<typeof import('../worker/agent.js') & typeof import('../worker/executor.js') & typeof import('../worker/reaper.js') & typeof import('../worker/spawner.js')> {
  const [agent, executor, reaper, spawner] = await Promise.all([import('../worker/agent.js'), import('../worker/executor.js'), import('../worker/reaper.js'), import('../worker/spawner.js')]);
  return { ...agent, ...executor, ...reaper, ...spawner };
}

/** The --tls-cert file as the local worker's CA when it is self-signed; otherwise `titan up` needs --ca. */
function selfSignedCa(certFile: string | undefined): string | undefined {
  if (certFile === undefined) return undefined;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(certFile));
  } catch {
    return certFile; // Unreadable or not PEM: the master's own check names the file.
  }
  if (cert.checkIssued(cert)) return certFile;
  throw new UsageError(`--tls-cert ${certFile} is signed by a CA (${cert.issuer.replaceAll('\n', ', ')}): give the local worker that CA with --ca <file>`);
}

function summarise(counts: Partial<Record<JobStatus, number>>, total: number): string {
  const parts = Object.entries(counts).map(([s, n]) => `${n} ${colourStatus(s)}`);
  return `${parts.join(', ')}${total > 0 ? ` (${total})` : ''}`;
}

function splitList(text: string): string[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError('give at least one capability');
  return items;
}

function parseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env expects KEY=VALUE, got "${pair}"`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** Runs `stop` on the first SIGINT/SIGTERM; a second signal exits at once. */
function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolvePromise) => {
    let stopping = false;
    const onSignal = (): void => {
      if (stopping) process.exit(130);
      stopping = true;
      stop().then(
        () => {
          resolvePromise();
          process.exit(0);
        },
        (err: Error) => {
          process.stderr.write(`titan: error while stopping: ${err.message}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

registerStoreCommands(program);
registerScheduleCommands(program);
registerServiceCommands(program);
registerArtifactCommands(program);
registerMcpCommand(program);
registerTitanCommands(program);
registerShellCommand(program);
registerCompletionCommand(program);
// Last, once every command exists: examples for the commands that show none of their own.
addExamples(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`titan: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof TitanError) {
    process.stderr.write(`titan: ${printable(err.message)}${err.code === 'UNAVAILABLE' || err.code === 'UNAUTHORIZED' ? '' : ` [${printable(err.code, true)}]`}\n`);
    process.exit(err.code === 'UNAVAILABLE' || err.code === 'UNAUTHORIZED' ? 3 : 1);
  }
  process.stderr.write(`titan: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
