/**
 * Triggers on the master's Triggers system. The run of `triggers.create` is checked like a
 * submission (a valid DAG whose scripts were uploaded, its secrets set) before it is stored.
 */
import { command } from './command.js';

export const triggerCommands = {
  'triggers.list': command('triggers.list', async ({ master }) => ({ triggers: await master.triggers.list() })),
  'triggers.get': command('triggers.get', async ({ master }, p) => ({ trigger: await master.triggers.get(p.name, p.deliveries) })),
  'triggers.create': command('triggers.create', ({ master }, p) => master.triggers.create(p.name, p.run, p.auth, p.limits)),
  'triggers.remove': command('triggers.remove', ({ master }, p) => master.triggers.remove(p.name)),
};
