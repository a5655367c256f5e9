/** Jobs, their logs and services: read, cancel, retry, follow, stop; and ending a subscription. */
import { parseJobRef } from '../../core/model.js';
import { hideEnv } from '../../protocol/access.js';
import { command, hidesEnv, sessionCommand } from './command.js';

export const jobCommands = {
  'job.get': command('job.get', async (ctx, p) => {
    const found = await ctx.master.getJob(p.ref);
    return hidesEnv(ctx) ? { ...found, job: hideEnv(found.job) } : found;
  }),
  'job.cancel': command('job.cancel', async (ctx, p) => ({ job: await ctx.master.cancelJob(p.ref) })),
  'job.retry': command('job.retry', async (ctx, p) => ({ job: await ctx.master.retryJob(p.ref) })),
  'logs.get': command('logs.get', (ctx, p) => ctx.master.readLogs(p.ref, p.attempt, p.offset, p.limit)),
  'logs.follow': sessionCommand('logs.follow', (ctx, p) => {
    const { session, requestId: subscription } = ctx;
    return session.subscribe(subscription, async () => {
      const stop = await ctx.master.followLogs(p.ref, {
        data: (attempt, data) => session.notify('log', { subscription, ...parseJobRef(p.ref), attempt, data }),
        end: (status) => {
          session.subscriptions.delete(subscription);
          session.notify('log.end', { subscription, status });
        },
      });
      return { stop, result: { subscription } };
    });
  }),
  unsubscribe: sessionCommand('unsubscribe', (ctx, p) => {
    ctx.session.unsubscribe(p.subscription);
    return { ok: true } as const;
  }),
  'services.list': command('services.list', (ctx) => ({ services: ctx.master.listServices() })),
  'service.stop': command('service.stop', async (ctx, p) => ({ job: await ctx.master.stopService(p.ref) })),
};
