/** Runs and agent runs: read, watch, list, cancel, re-run, extend, delete. */
import type { JobView } from '../../protocol/methods.js';
import { hideEnv } from '../../protocol/access.js';
import { command, hidesEnv, sessionCommand } from './command.js';

export const runCommands = {
  'run.get': command('run.get', async (ctx, p) => {
    const view = await ctx.master.getRun(p.runId);
    return hidesEnv(ctx) ? { ...view, jobs: view.jobs.map(hideEnv) } : view;
  }),
  'run.watch': sessionCommand('run.watch', (ctx, p) => {
    const { session, requestId: subscription } = ctx;
    const hidden = hidesEnv(ctx);
    return session.subscribe(subscription, async () => {
      const { snapshot, stop } = await ctx.master.watchRun(p.runId, {
        run: (run) => session.notify('run.update', { subscription, run }),
        ...(p.jobs && { jobs: (jobs: JobView[]) => session.notify('run.jobs', { subscription, jobs: hidden ? jobs.map(hideEnv) : jobs }) }),
      });
      return { stop, result: { subscription, snapshot: hidden ? { ...snapshot, jobs: snapshot.jobs.map(hideEnv) } : snapshot } };
    });
  }),
  'runs.list': command('runs.list', (ctx, p) => ctx.master.listRuns(p)),
  'run.cancel': command('run.cancel', async (ctx, p) => ({ cancelled: await ctx.master.cancelRun(p.runId) })),
  'run.delete': command('run.delete', async (ctx, p) => ({ deleted: await ctx.master.deleteRun(p.runId) })),
  'run.rerun': command('run.rerun', (ctx, p) => ctx.master.rerun(p.runId)),
  'run.extend': command('run.extend', async (ctx, p) => {
    const own = ctx.principal.attempt;
    if (own) ctx.master.checkSecretsWithin(own, p.jobs);
    return ctx.master.extendRun(p.runId, p.jobs, own?.runId === p.runId ? own.jobId : undefined);
  }),
  'agentRuns.list': command('agentRuns.list', async (ctx, p) => ({ agentRuns: await ctx.master.listAgentRuns(p.limit) })),
  'agentRun.get': command('agentRun.get', (ctx, p) => ctx.master.getAgentRun(p.agentRunId)),
  'agentRun.watch': sessionCommand('agentRun.watch', (ctx, p) => {
    const { session, requestId: subscription } = ctx;
    return session.subscribe(subscription, async () => {
      const { snapshot, stop } = await ctx.master.watchAgentRun(p.agentRunId, (run) => session.notify('agentRun.stage', { subscription, run }));
      return { stop, result: { subscription, snapshot } };
    });
  }),
};
