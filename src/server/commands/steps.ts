/** Durable steps (systems/steps.ts), on the job the caller's token names: only a job's token gets here (protocol/access.ts). */
import { TitanError } from '../../core/errors.js';
import type { AttemptId } from '../../protocol/methods.js';
import type { Principal } from '../../protocol/roles.js';
import { command } from './command.js';

/** The attempt the token belongs to; the access table lets no other caller through, this says so again. */
function ownAttempt(principal: Principal, method: string): AttemptId {
  if (principal.attempt === undefined) throw new TitanError('FORBIDDEN', `${method} acts on the calling job's own steps: only a job's token can call it`);
  return principal.attempt;
}

export const stepCommands = {
  'step.get': command('step.get', ({ master, principal }, p) => master.getStep(ownAttempt(principal, 'step.get'), p.name)),
  'step.record': command('step.record', ({ master, principal }, p) => master.recordStep(ownAttempt(principal, 'step.record'), p)),
};
