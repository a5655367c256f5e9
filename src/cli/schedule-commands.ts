/**
 * `titan schedules [list]` and `titan schedules pause|resume|delete|run-now <name>`, and what
 * `titan submit` does with a pipeline that has a `schedule`: register it under the pipeline's
 * name. Exit codes as everywhere: 1 for an unknown schedule, 2 for a malformed name.
 */
import type { Command } from 'commander';
import { IdSchema } from '../core/model.js';
import type { ScheduleSpec, ScheduleView } from '../core/schedule.js';
import type { RunInput, TitanClient } from '../sdk/client.js';
import { type ConnectionFlags, connectionOptions, json, jsonOption, print, UsageError, withClient } from './connection.js';
import { table, when } from './format.js';
import { defaultSubcommand } from './subcommands.js';

function nameProblem(name: string, what: string): string | null {
  const result = IdSchema.safeParse(name);
  return result.success ? null : `bad ${what} "${name}": ${result.error.issues[0]?.message ?? 'invalid'}`;
}

function checkedName(name: string): string {
  const problem = nameProblem(name, 'schedule name');
  if (problem !== null) throw new UsageError(problem);
  return name;
}

/** Why a pipeline's name cannot name its schedule (it is registered under it), or null when it can. */
export const pipelineNameProblem = (name: string): string | null => nameProblem(name, 'pipeline name for a schedule');

/** `2026-05-02 09:00:00 Europe/Berlin`, the time in the schedule's own zone. */
export function zoned(ms: number | null, timezone: string): string {
  if (ms === null) return '-';
  if (timezone === 'UTC') return `${when(ms)} UTC`;
  const local = new Intl.DateTimeFormat('sv-SE', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(ms);
  return `${local} ${timezone}`;
}

const next = (s: ScheduleView): string => (s.paused ? 'paused' : s.nextAt === null ? 'never' : zoned(s.nextAt, s.spec.timezone));

/**
 * Registers the pipeline's schedule under its name (replacing one of that name) and prints when
 * it runs next; with `now`, also submits it once. Returns the run id of that run, if any.
 */
export async function registerSchedule(client: TitanClient, run: RunInput, schedule: ScheduleSpec, o: { now: boolean; json: boolean }): Promise<string | null> {
  // Its name was checked with the pipeline (checkedPipeline).
  const name = run.name ?? 'pipeline';
  const put = await client.putSchedule(name, schedule, run);
  const ran = o.now ? await client.runScheduleNow(name) : null;
  if (o.json) {
    json({ ...put, ...(ran && { runId: ran.runId }) });
  } else {
    const what = `${put.created ? 'scheduled' : 'updated schedule'} ${name} (${schedule.cron}, ${schedule.timezone})`;
    print(put.schedule.paused ? `${what}; it is paused: titan schedules resume ${name} starts it` : `${what}; next run ${next(put.schedule)}`);
    if (ran) print(`submitted run ${ran.runId} now`);
  }
  return ran?.runId ?? null;
}

export function registerScheduleCommands(program: Command): void {
  const schedules = program.command('schedules').description('pipelines submitted on a cron schedule (titan submit registers a pipeline that has a schedule)');

  connectionOptions(defaultSubcommand(schedules, 'list').description('schedules with their next fire time, last run and the latest decision').addOption(jsonOption())).action(
    async (o: ConnectionFlags & { json: boolean }) => {
      await withClient(o, async (client) => {
        const list = await client.schedules();
        if (o.json) return json(list);
        if (list.length === 0) return print('no schedules (a pipeline with a "schedule" key is registered by titan submit)');
        print(
          table(
            ['NAME', 'CRON', 'TIMEZONE', 'NEXT', 'LAST RUN', 'PAUSED', 'LAST DECISION'],
            list.map((s) => [s.name, s.spec.cron, s.spec.timezone, next(s), s.lastRunId === null ? '-' : `${s.lastRunId} at ${when(s.lastAt)}`, s.paused ? 'yes' : 'no', s.lastDecision ?? '-']),
          ),
        );
      });
    },
  );

  /** Each action returns what --json prints and the line a person reads. */
  const actions: readonly [string, string, (c: TitanClient, name: string) => Promise<{ value: unknown; text: string }>][] = [
    ['pause', 'stop submitting runs until resumed', async (c, name) => ({ value: await c.pauseSchedule(name), text: `paused ${name}` })],
    [
      'resume',
      'submit runs again, from the next fire time after now',
      async (c, name) => {
        const schedule = await c.resumeSchedule(name);
        return { value: schedule, text: `resumed ${name}; next run ${next(schedule)}` };
      },
    ],
    ['delete', 'remove a schedule (the runs it submitted are kept)', async (c, name) => ({ value: await c.deleteSchedule(name), text: `deleted ${name}` })],
    [
      'run-now',
      "submit a schedule's pipeline now, whatever its overlap policy",
      async (c, name) => {
        const result = await c.runScheduleNow(name);
        return { value: result, text: `submitted run ${result.runId}` };
      },
    ],
  ];
  for (const [command, description, act] of actions) {
    connectionOptions(schedules.command(command).description(description).argument('<name>').addOption(jsonOption())).action(async (name: string, o: ConnectionFlags & { json: boolean }) => {
      checkedName(name);
      await withClient(o, async (client) => {
        const { value, text } = await act(client, name);
        if (o.json) json(value);
        else print(text);
      });
    });
  }
}
