/** Workers and the cluster: list, drain, undrain, shut down; statistics. */
import { command } from './command.js';

export const workerCommands = {
  'workers.list': command('workers.list', ({ master }) => ({ workers: master.listWorkers() })),
  'worker.drain': command('worker.drain', ({ master }, p) => ({ worker: master.requestDrain(p.id) })),
  'worker.undrain': command('worker.undrain', ({ master }, p) => ({ worker: master.requestUndrain(p.id) })),
  'worker.shutdown': command('worker.shutdown', ({ master }, p) => ({ worker: master.requestShutdown(p.id, p.force, p.drainTimeoutMs) })),
  stats: command('stats', ({ master }) => master.stats()),
};
