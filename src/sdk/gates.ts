/** `client.gate`: approval gates waiting for a human decision. */
import type { GateDecisionResult, Results } from '../protocol/methods.js';
import type { Transport } from './connection.js';

export class GateClient {
  constructor(private readonly transport: Transport) {}

  /** Gates waiting for a decision, and the latest `history` decisions. */
  list(history = 0): Promise<Results['gates.list']> {
    return this.transport.call('gates.list', { history });
  }

  /**
   * Approves a gate: a native one (`runId/gateId` or a gate id), or a Titan-style one by its gate
   * id. The master records the decision under the name of this client's token.
   */
  approve(ref: string, options: { comment?: string } = {}): Promise<GateDecisionResult> {
    return this.transport.call('gate.decide', { ref, approved: true, comment: options.comment ?? null });
  }

  reject(ref: string, options: { comment?: string } = {}): Promise<GateDecisionResult> {
    return this.transport.call('gate.decide', { ref, approved: false, comment: options.comment ?? null });
  }
}
