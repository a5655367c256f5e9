/** `client.agent`: agent runs, the runs an agent submitted grouped as its stages. */
import type { AgentRunSummary, RunRecord } from '../core/model.js';
import type { AgentRunView, ClientEvents } from '../protocol/methods.js';
import type { Transport } from './connection.js';

export class AgentRunClient {
  constructor(private readonly transport: Transport) {}

  async list(limit = 20): Promise<AgentRunSummary[]> {
    return (await this.transport.call('agentRuns.list', { limit })).agentRuns;
  }

  get(agentRunId: string): Promise<AgentRunView> {
    return this.transport.call('agentRun.get', { agentRunId });
  }

  /** The agent run's stages, then each run that joins it or changes status, until closed. */
  async *follow(agentRunId: string): AsyncGenerator<{ type: 'snapshot'; view: AgentRunView } | { type: 'stage'; run: RunRecord }> {
    const sub = await this.transport.subscribe('agentRun.watch', { agentRunId });
    try {
      yield { type: 'snapshot', view: sub.reply.snapshot };
      for (;;) {
        const [event, data] = await sub.next();
        if (event === 'agentRun.stage') yield { type: 'stage', run: (data as ClientEvents['agentRun.stage']).run };
      }
    } finally {
      sub.close();
    }
  }
}
