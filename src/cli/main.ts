/**
 * The `titan` command. Exit codes: 0 success; 1 the work failed (a job or run did not complete);
 * 2 bad command-line input or pipeline file; 3 the master could not be reached or refused.
 */
import { Command, Option } from 'commander';
import { DEFAULT_CAPABILITY, DEFAULT_PRIORITY, DEFAULT_RETRIES, type JobStatus, ReadinessSchema, RESTART_POLICIES, type RestartPolicy, RUN_STATUSES, TagSchema } from '../core/model.js';
import { type JobView, RunCursorSchema } from '../protocol/methods.js';
import { VERSION } from '../core/version.js';
import { int, requirementWord, seconds, TITAN_CAPABILITIES } from './arguments.js';
import { registerArtifactCommands } from './artifact-commands.js';
import { registerCompletionCommand } from './completion.js';
import { endQuietlyWhenOutputCloses, exitWithFailure } from './failure.js';
import { addExamples } from './help-examples.js';
import { registerLogsCommand } from './log-commands.js';
import { registerMcpCommand } from './mcp-command.js';
import { registerPipelineCommands } from './pipeline-commands.js';
import { registerAccessCommands } from './access-commands.js';
import { type ConnectionFlags, connectionOptions, json, loadPart, print, UsageError, withClient } from './connection.js';
import { bold, bytes, colourStatus, dim, duration, errorBeyondExitCode, outcome, table, when } from './format.js';
import { registerScheduleCommands } from './schedule-commands.js';
import { registerServerCommands } from './server-commands.js';
import { registerServiceCommands } from './service-commands.js';
import { registerShellCommand } from './shell.js';
import { registerStoreCommands } from './store-commands.js';
import { defaultSubcommand } from './subcommands.js';
import { registerTitanCommands, resolveScript } from './titan-commands.js';
import { awaitService, sayOnInterrupt, sayWhyWaiting } from './waiting.js';
import { registerWorkersCommands } from './workers-commands.js';

endQuietlyWhenOutputCloses();

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

registerServerCommands(program);

connectionOptions(
  program
    .command('run')
    .description('run one script on the cluster, show its output and exit with its status')
    .argument('<script>', 'a local script file (.py, .js, .sh or an executable), or else the name of a script in the library (titan files scripts)')
    .argument('[args...]', `arguments for the script, after -- (everything after -- reaches it as written); a last word before -- that is one of ${TITAN_CAPABILITIES.join(', ')} is the requirement instead, as in Titan's run <file> GPU`)
    .option('--requirement <capability>', 'capability the worker must have (or give a Titan capability as the word after the script)', DEFAULT_CAPABILITY)
    .addOption(new Option('--priority <n>', 'higher runs first').default(DEFAULT_PRIORITY).argParser(int('--priority', -1_000_000, 1_000_000)))
    .addOption(new Option('--retries <n>', 'retries after a failure').default(DEFAULT_RETRIES).argParser(int('--retries', 0, 100)))
    .addOption(new Option('--timeout <seconds>', 'kill the job after this long').argParser(seconds))
    .option('--env <KEY=VALUE>', 'an environment variable for the job (repeatable)', (pair: string, all: string[] = []) => [...all, pair])
    .option('--detach', 'submit and print the job reference without waiting', false)
    .option('--service', 'run it as a service: kept up (restarted by --restart), given a port as $PORT and {port}; waits until it is ready', false)
    .addOption(new Option('--port <port>', 'a service: its fixed port (default: a free one from the master\'s range)').argParser(int('--port', 1, 65535)))
    .addOption(new Option('--readiness <probe>', 'a service: tcp, none, or an HTTP path such as /health').default('tcp'))
    .addOption(new Option('--restart <policy>', 'a service: when to restart it').choices(RESTART_POLICIES).default('always'))
    .option('--json', 'print the final job (with --detach: its reference) as JSON instead of its output', false),
).action(async (script: string, words: string[], o: ConnectionFlags & { requirement: string; priority: number; retries: number; timeout?: number; env?: string[]; detach: boolean; service: boolean; port?: number; readiness: string; restart: RestartPolicy; json: boolean }, command: Command) => {
  if (!o.service && o.port !== undefined) throw new UsageError('--port applies to a service: add --service');
  // Commander drops the `--` itself: what follows it in the command line is the script's, literally.
  const dash = process.argv.indexOf('--');
  const { args, requirement } = requirementWord(words, dash < 0 ? 0 : process.argv.length - dash - 1);
  if (requirement !== null) {
    if (command.getOptionValueSource('requirement') !== 'default') throw new UsageError(`give the requirement once: "${requirement}" after the script or --requirement ${o.requirement}`);
    process.stderr.write(dim(`requirement ${requirement} (to pass "${requirement}" to the script instead, put it after --)\n`));
  }
  const readiness = ReadinessSchema.safeParse(o.readiness);
  if (!readiness.success) throw new UsageError(`--readiness must be tcp, none or an HTTP path starting with "/", got "${o.readiness}"`);
  await withClient(o, async (client) => {
    const source = await resolveScript(client, script);
    const { runId, jobId } = await client.runScript(source, args, {
      requirement: requirement ?? o.requirement,
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
    sayOnInterrupt(ref, `titan cancel ${ref}`);
    const exitCodeOf = (job: JobView): number => (job.status === 'COMPLETED' ? 0 : job.exitCode && job.exitCode > 0 ? job.exitCode : 1);
    if (o.json) {
      const job = await client.waitForJob(ref);
      json(job);
      process.exitCode = exitCodeOf(job);
      return;
    }
    sayWhyWaiting(client, runId);
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
    process.stderr.write(`${ref} ${outcome(job)}\n`);
    process.exitCode = exitCodeOf(job);
  });
});

registerPipelineCommands(program);

connectionOptions(program.command('status').description("show a job's status (runId/jobId, or a job id for its latest run)").argument('<job>').option('--json', 'print JSON', false)).action(
  async (ref: string, o: ConnectionFlags & { json: boolean }) => {
    await withClient(o, async (client) => {
      const { job, attempts } = await client.getJob(ref);
      if (o.json) return json({ job, attempts });
      print(`${bold(job.ref)}  ${colourStatus(job.status)}${job.waitingReason === null ? '' : `: ${job.waitingReason}`}`);
      if (job.spec.script) {
        print(`  script     ${[job.spec.script.name, ...job.spec.args.map((a) => JSON.stringify(a))].join(' ')}`);
        print(`  requires   ${job.spec.requirement}   priority ${job.spec.priority}   retries ${job.spec.retries}`);
      } else {
        // A gate takes no worker and is never retried: its requirement and retries mean nothing.
        print(`  gate       ${job.spec.message ?? '(no message)'}`);
      }
      if (job.spec.dependsOn.length > 0) print(`  after      ${job.spec.dependsOn.join(', ')}`);
      if (job.exitCode !== null) print(`  exit code  ${job.exitCode}`);
      const error = errorBeyondExitCode(job);
      if (error !== null) print(`  error      ${error}`);
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

registerWorkersCommands(program);

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
  defaultSubcommand(agentRuns, 'list')
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
      .option('--json', 'print the decision as JSON', false),
  ).action(async (ref: string, o: ConnectionFlags & { message?: string; json: boolean }) => {
    await withClient(o, async (client) => {
      const options = o.message !== undefined ? { comment: o.message } : {};
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

registerAccessCommands(program);

function summarise(counts: Partial<Record<JobStatus, number>>, total: number): string {
  const parts = Object.entries(counts).map(([s, n]) => `${n} ${colourStatus(s)}`);
  return `${parts.join(', ')}${total > 0 ? ` (${total})` : ''}`;
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

program.parseAsync(process.argv).catch(exitWithFailure);
