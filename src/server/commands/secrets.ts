/** Secrets on the master's secrets system (systems/secrets.ts): set and remove by name, list names and dates. */
import { command } from './command.js';

export const secretCommands = {
  'secret.set': command('secret.set', ({ master }, p) => master.setSecret(p.name, p.value)),
  'secrets.list': command('secrets.list', ({ master }) => ({ secrets: master.listSecrets() })),
  'secret.remove': command('secret.remove', ({ master }, p) => master.removeSecret(p.name)),
};
