/** Approval gates: the pending ones with recent decisions, and deciding one. */
import { command } from './command.js';

export const gateCommands = {
  'gates.list': command('gates.list', async ({ master }, p) => {
    const [pending, history] = await Promise.all([master.listGates(), p.history > 0 ? master.gateHistory(p.history) : []]);
    return { pending, history };
  }),
  // The decision is recorded under who the caller authenticated as, never a name it gave.
  'gate.decide': command('gate.decide', (ctx, p) => ctx.master.decideGate(p.ref, p.approved, ctx.principal.name, p.comment)),
};
