/** `titan run`: one script on the cluster, its output streamed, its exit status returned. */
import { type Command, Option } from 'commander';
import { DEFAULT_CAPABILITY, DEFAULT_PRIORITY, DEFAULT_RETRIES, ReadinessSchema, RESTART_POLICIES, type RestartPolicy } from '../core/model.js';
import type { JobView } from '../protocol/methods.js';
import { int, requirementWord, seconds, TITAN_CAPABILITIES } from './arguments.js';
import { type ConnectionFlags, connectionOptions, json, jsonOption, print, UsageError, withClient } from './connection.js';
import { dim, outcome } from './format.js';
import { resolveScript } from './titan-commands.js';
import { awaitService, sayOnInterrupt, sayWhyWaiting } from './waiting.js';

export function registerRunCommand(program: Command): void {
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
      .addOption(jsonOption('print the final job (with --detach: its reference) as JSON instead of its output')),
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
