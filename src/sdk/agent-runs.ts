/** `client.agent`: agent runs, the runs an agent submitted grouped as its stages. */
import type { AgentRunSummary, RunRecord } from '../core/model.js';
import type { AgentRunView, ClientEvents, Results } from '../protocol/methods.js';
import { RESUMED, type Transport } from './connection.js';

export class AgentRunClient {
  constructor(private readonly transport: Transport) {}

  async list(limit = 20): Promise<AgentRunSummary[]> {
    return (await this.transport.call('agentRuns.list', { limit })).agentRuns;
  }

  get(agentRunId: string): Promise<AgentRunView> {
    return this.transport.call('agentRun.get', { agentRunId });
  }

  /**
   * The agent run's stages, then each run that joins it or changes status, until closed. A
   * follow whose connection drops carries on from the master that leads once it is back, with
   * the stages that joined or changed in between.
   */
  async *follow(agentRunId: string): AsyncGenerator<{ type: 'snapshot'; view: AgentRunView } | { type: 'stage'; run: RunRecord }> {
    const sub = await this.transport.subscribe('agentRun.watch', { agentRunId });
    try {
      yield { type: 'snapshot', view: sub.reply.snapshot };
      const seen = new Map<string, string>();
      const changed = (run: RunRecord): boolean => {
        const state = `${run.status}@${run.finishedAt ?? ''}`;
        if (seen.get(run.runId) === state) return false;
        seen.set(run.runId, state);
        return true;
      };
      sub.reply.snapshot.stages.forEach(changed);
      for (;;) {
        const [event, data] = await sub.next();
        const runs = event === RESUMED ? (data as Results['agentRun.watch']).snapshot.stages : event === 'agentRun.stage' ? [(data as ClientEvents['agentRun.stage']).run] : [];
        for (const run of runs) if (changed(run) || event !== RESUMED) yield { type: 'stage', run };
      }
    } finally {
      sub.close();
    }
  }
}
