/**
 * Schedules on the master's Schedules system. The run of `schedule.put` is checked like a
 * submission (a valid DAG whose scripts were uploaded) before it is stored.
 */
import { command } from './command.js';

export const scheduleCommands = {
  'schedules.list': command('schedules.list', ({ master }) => ({ schedules: master.schedules.list() })),
  'schedule.put': command('schedule.put', ({ master }, p) => master.schedules.upsert(p.name, p.schedule, p.run)),
  'schedule.pause': command('schedule.pause', async ({ master }, p) => ({ schedule: await master.schedules.pause(p.name) })),
  'schedule.resume': command('schedule.resume', async ({ master }, p) => ({ schedule: await master.schedules.resume(p.name) })),
  'schedule.delete': command('schedule.delete', async ({ master }, p) => ({ schedule: await master.schedules.delete(p.name) })),
  'schedule.runNow': command('schedule.runNow', ({ master }, p) => master.schedules.runNow(p.name)),
};
