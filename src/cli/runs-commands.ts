/** `titan runs` and `titan agent-runs`: the runs of the cluster, alone or grouped by agent run. */
import { type Command, Option } from 'commander';
import { RUN_STATUSES, TagSchema } from '../core/model.js';
import { RunCursorSchema } from '../protocol/run-cursor.js';
import { int } from './arguments.js';
import { type ConnectionFlags, connectionOptions, json, jsonOption, print, UsageError, withClient } from './connection.js';
import { colourStatus, duration, summarise, table, when } from './format.js';
import { defaultSubcommand } from './subcommands.js';

export function registerRunsCommand(program: Command): void {
  connectionOptions(
    program
      .command('runs')
      .description('list recent runs')
      .addOption(new Option('--status <status>', 'only runs in this status').choices([...RUN_STATUSES]))
      .addOption(new Option('--limit <n>', 'how many').default(20).argParser(int('--limit', 1, 1000)))
      .option('--tag <tag>', 'only runs carrying this tag (a pipeline\'s tags:)')
      .option('--after <cursor>', 'the page after this one: <createdAt>:<runId> of the last run listed (printed as the next page\'s command)')
      .addOption(jsonOption()),
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
}

export function registerAgentRunsCommands(program: Command): void {
  const agentRuns = program.command('agent-runs').description('agent runs: several runs grouped by --agent-run / agentRunId');
  connectionOptions(
    defaultSubcommand(agentRuns, 'list')
      .description('agent runs, most recently active first')
      .addOption(new Option('--limit <n>', 'how many').default(20).argParser(int('--limit', 1, 1000)))
      .addOption(jsonOption()),
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
      .addOption(jsonOption()),
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
}
