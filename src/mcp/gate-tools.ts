/**
 * Approval gates: the ones waiting, and deciding them. Listing is open to any token that may read;
 * deciding is the master's to allow and, beyond that, refused here unless a person gave this
 * agent the right (mayDecideGates).
 */
import { TitanError } from '../core/errors.js';
import type { TitanClient } from '../sdk/client.js';
import { DecideInput, ListGatesInput } from './schemas.js';
import { type DefineTool, destroys, readOnly, writes } from './tool.js';
import { decisionView, gateView, jobView } from './views.js';

export function registerGateTools(tool: DefineTool, client: TitanClient): void {
  tool(
    'list_gates',
    { title: 'Gates waiting', description: 'Approval gates waiting for a decision, oldest first, with the question each asks and when it fails undecided; history adds the latest decisions (who, when, why).', annotations: readOnly },
    ListGatesInput,
    async (p) => {
      const { pending, history } = await client.gates(p.history);
      return { pending: pending.map(gateView), ...(p.history > 0 && { history: history.map(decisionView) }) };
    },
  );

  for (const approved of [true, false]) {
    tool(
      approved ? 'approve' : 'reject',
      {
        title: approved ? 'Approve a gate' : 'Reject a gate',
        description: approved ? 'Approves an approval gate: the jobs after it run.' : 'Rejects an approval gate: it fails and the jobs after it are skipped. Give the reason as comment.',
        annotations: approved ? writes : destroys,
      },
      DecideInput,
      async (p) => {
        await mayDecideGates(client);
        const decision = p.comment !== undefined ? { comment: p.comment } : {};
        const result = approved ? await client.approve(p.gate, decision) : await client.reject(p.gate, decision);
        return { ref: result.ref, decision: approved ? 'approved' : 'rejected', job: result.job ? jobView(result.job) : null };
      },
    );
  }
}

/**
 * An agent decides gates only when a person granted it that: its token must be a named one with
 * the approver (or admin) role. The cluster token, which an agent is often handed for convenience,
 * does not count, so a gate meant for a person is never passed by the agent it holds back.
 */
async function mayDecideGates(client: TitanClient): Promise<void> {
  const me = await client.call('whoami', {});
  if (me.kind === 'token' && me.permissions.includes('approve')) return;
  throw new TitanError(
    'FORBIDDEN',
    `this MCP server acts as ${me.name}, which no one granted the right to decide gates: a person decides them (titan approve, the dashboard), or gives the agent a named token with that role (titan token create NAME --role operator,approver, then titan mcp --token-file FILE)`,
  );
}
