/**
 * The schedule methods of a v2 client session (`schedules.list`, `schedule.*`): parameters are
 * validated here and mapped onto the master's Schedules system. The run of `schedule.put` is
 * checked like a submission (a valid DAG whose scripts were uploaded) before it is stored.
 */
import { TitanError } from '../core/errors.js';
import type { Master } from '../master/master.js';
import { describeIssues } from '../protocol/peer.js';
import { type ScheduleMethod, type ScheduleResults, scheduleParams } from '../protocol/schedule-methods.js';

function parse<M extends ScheduleMethod>(method: M, raw: unknown): ReturnType<(typeof scheduleParams)[M]['parse']> {
  const result = scheduleParams[method].safeParse(raw ?? {});
  if (!result.success) throw new TitanError('BAD_REQUEST', `invalid parameters for ${method}: ${describeIssues(result.error.issues)}`);
  return result.data as ReturnType<(typeof scheduleParams)[M]['parse']>;
}

export async function handleSchedule(master: Master, method: ScheduleMethod, raw: unknown): Promise<ScheduleResults[ScheduleMethod]> {
  const { schedules } = master;
  switch (method) {
    case 'schedules.list':
      parse(method, raw);
      return { schedules: schedules.list() };
    case 'schedule.put': {
      const p = parse(method, raw);
      return schedules.upsert(p.name, p.schedule, p.run);
    }
    case 'schedule.pause':
      return { schedule: await schedules.pause(parse(method, raw).name) };
    case 'schedule.resume':
      return { schedule: await schedules.resume(parse(method, raw).name) };
    case 'schedule.delete':
      return { schedule: await schedules.delete(parse(method, raw).name) };
    case 'schedule.runNow':
      return schedules.runNow(parse(method, raw).name);
  }
}
