/** The cluster's flow-control limits on the master's flow system (systems/flow.ts). */
import { command } from './command.js';

export const limitCommands = {
  'limits.list': command('limits.list', ({ master }) => ({ keys: master.flowKeys() })),
  'limits.set': command('limits.set', async ({ master }, p) => ({ limits: await master.setLimit(p) })),
  'limits.remove': command('limits.remove', ({ master }, p) => master.removeLimit(p.key)),
};
