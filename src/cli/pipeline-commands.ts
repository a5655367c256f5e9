/**
 * `titan submit <pipeline.yaml>` and `titan validate <pipeline.yaml>` (also `submit --dry-run`):
 * both check the file with checkedPipeline (pipeline.ts); validate stops there and says so.
 */
import type { Command } from 'commander';
import { type ConnectionFlags, connectionOptions, json, jsonOption, print, UsageError, withClient } from './connection.js';
import type { Pipeline } from './pipeline.js';
import { registerSchedule, zoned } from './schedule-commands.js';
import { followRun } from './waiting.js';
import type { SubmitResult } from '../protocol/methods.js';

type SubmitFlags = ConnectionFlags & { wait: boolean; json: boolean; agentRun?: string; now: boolean; dryRun: boolean };

export function registerPipelineCommands(program: Command): void {
  connectionOptions(
    program
      .command('submit')
      .description('submit a pipeline YAML file as a new run (one with a schedule is registered to run at its fire times)')
      .argument('<pipeline.yaml>')
      .option('--wait', 'follow the run until it finishes (or only its services still run); exit 0 only if every job completed or is a service that is up', false)
      .option('--agent-run <id>', 'make this run a stage of an agent run')
      .option('--now', 'a pipeline with a schedule: also run it once now (--wait then follows that run)', false)
      .option('--dry-run', 'check the pipeline as submit does and print its summary, sending nothing (the same as titan validate)', false)
      .addOption(jsonOption('print the result as JSON')),
  ).action(async (file: string, o: SubmitFlags) => {
    const pipeline = await checked(file);
    // A pipeline with a schedule is registered under its name, not run (unless --now).
    const { schedule, ...input } = o.agentRun === undefined ? pipeline : { ...pipeline, agentRunId: o.agentRun };
    if (o.now && !schedule) throw new UsageError('--now applies to a pipeline with a schedule; without one, submit runs it at once');
    if (schedule && o.wait && !o.now) throw new UsageError('a pipeline with a schedule is registered, not run: add --now to also run it once (--wait then follows that run)');
    if (o.dryRun) return await summarise(pipeline, o);
    await withClient(o, async (client) => {
      let runId: string;
      if (schedule) {
        const ran = await registerSchedule(client, input, schedule, o);
        if (ran === null || !o.wait) return;
        runId = ran;
      } else {
        const submitted = await client.submit(input);
        if (!o.wait) return o.json ? json(submitted) : print(submittedLine(submitted, pipeline.name ?? 'pipeline'));
        runId = submitted.runId;
      }
      await followRun(client, runId, o);
    });
  });

  program
    .command('validate')
    .description('check a pipeline YAML file as titan submit does (YAML, scripts, project folder, job graph, schedule) without a master; exit 2 when it is not valid')
    .argument('<pipeline.yaml>')
    .addOption(jsonOption('print {valid, name, jobs, schedule, nextAt} as JSON'))
    .addHelpText('after', '\nExamples:\n  titan validate pipeline.yaml\n  titan submit pipeline.yaml --dry-run     the same\n')
    .action(async (file: string, o: { json: boolean }) => summarise(await checked(file), o));
}

/** The pipeline file, checked (pipeline.ts is loaded only by the commands that read one). */
async function checked(file: string): Promise<Pipeline> {
  const { checkedPipeline } = await import('./pipeline.js');
  return checkedPipeline(file);
}

/** `pipeline NAME: N jobs, valid`, and when a schedule would run it next. */
async function summarise(pipeline: Pipeline, o: { json: boolean }): Promise<void> {
  const { schedule } = pipeline;
  const nextAt = schedule ? (await import('../core/schedule.js')).nextFire(schedule, Date.now()) : null;
  if (o.json) return json({ valid: true, name: pipeline.name, jobs: pipeline.jobs.length, schedule: schedule ?? null, nextAt });
  const when = schedule ? `; scheduled "${schedule.cron}" (${schedule.timezone}), next run ${zoned(nextAt, schedule.timezone)}` : '';
  const n = pipeline.jobs.length;
  print(`pipeline ${pipeline.name}: ${n} job${n === 1 ? '' : 's'}, valid${when}`);
}

/** What `titan submit` says: the run it started, or the one that holds the singleton key, and what a debounce replaced. */
function submittedLine(s: SubmitResult, name: string): string {
  if (s.singleton) return `run ${s.singleton.heldBy} holds the singleton key ${s.singleton.key}: no new run was submitted`;
  const replaced = s.replaced?.length ? `; it replaces run ${s.replaced.join(', ')} (debounce)` : '';
  return `submitted run ${s.runId} (${name}) with ${s.jobs.length} jobs${replaced}`;
}
