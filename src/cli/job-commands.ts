/** `titan status` and `titan cancel`: one job or a whole run. */
import type { Command } from 'commander';
import { startedByText } from '../core/trigger.js';
import type { AttemptRecord, JobStatus } from '../core/model.js';
import type { JobView, RunView } from '../protocol/methods.js';
import { type TitanClient, TitanError } from '../sdk/client.js';
import { type ConnectionFlags, connectionOptions, json, jsonOption, print, withClient } from './connection.js';
import { bold, colourStatus, duration, errorBeyondExitCode, summarise, table, when } from './format.js';
import { printJobs } from './waiting.js';

type Found = { job: JobView; attempts: AttemptRecord[] } | { run: RunView };

/** A job, or for a bare name that is no job, the run of that id. */
async function jobOrRun(client: TitanClient, ref: string): Promise<Found> {
  try {
    return await client.getJob(ref);
  } catch (err) {
    if (!(err instanceof TitanError) || err.code !== 'NOT_FOUND' || ref.includes('/')) throw err;
  }
  try {
    return { run: await client.getRun(ref) };
  } catch (err) {
    if (err instanceof TitanError && err.code === 'NOT_FOUND') throw new TitanError('NOT_FOUND', `no job or run ${ref}`);
    throw err;
  }
}

function printRun({ run, jobs }: RunView): void {
  const counts: Partial<Record<JobStatus, number>> = {};
  for (const j of jobs) counts[j.status] = (counts[j.status] ?? 0) + 1;
  print(`${bold(`run ${run.runId}`)} ${run.name}  ${colourStatus(run.status)}  ${summarise(counts, jobs.length)}`);
  if (run.startedBy !== undefined) print(`started by ${startedByText(run.startedBy)}`);
  printJobs(jobs);
}

export function registerStatusCommand(program: Command): void {
  connectionOptions(program.command('status').description("show a job's status (runId/jobId, or a job id for its latest run), or a run's jobs (a run id)").argument('<job-or-run>').addOption(jsonOption())).action(
    async (ref: string, o: ConnectionFlags & { json: boolean }) => {
      await withClient(o, async (client) => {
        const found = await jobOrRun(client, ref);
        if ('run' in found) return o.json ? json(found.run) : printRun(found.run);
        const { job, attempts } = found;
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
}

export function registerCancelCommand(program: Command): void {
  connectionOptions(
    program
      .command('cancel')
      .description('cancel a job (and skip what depends on it), or a whole run with --run')
      .argument('<job-or-run>')
      .option('--run', 'the argument is a run id: cancel all of it', false)
      .addOption(jsonOption('print the cancelled job (with --run: {runId, cancelled}) as JSON')),
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
}
