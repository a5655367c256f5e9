/**
 * Names and messages are data from whoever submitted them: the CLI shows their control
 * characters escaped, so a run name or a gate question cannot clear the screen, retitle the
 * terminal or forge lines in another user's `titan runs` and `titan gates`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../helpers/cluster.js';
import { waitJob } from '../helpers/scripts.js';

const TITLE = '\x1b]0;pwned\x07';
const CLEAR = '\x1b[2J\x1b[H';

describe('hostile names in CLI output', () => {
  const cluster = new Cluster();
  beforeAll(() => cluster.startMaster());
  afterAll(() => cluster.stop());

  it('escapes control characters of run names and gate questions', async () => {
    const client = cluster.client();
    const { runId } = await client.submit({ name: `nice${TITLE}name`, jobs: [{ id: 'ask', kind: 'approval', message: `Ship it?${CLEAR}\rfake: approved` }] });
    await waitJob(client, `${runId}/ask`, 'WAITING_APPROVAL');
    for (const args of [['runs'], ['gates'], ['status', `${runId}/ask`]]) {
      const { stdout } = await cluster.cli(args);
      expect(stdout, args.join(' ')).toMatch(/nice|Ship/);
      expect(stdout, args.join(' ')).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    }
    expect((await cluster.cli(['runs'])).stdout).toContain('nice\\x1b]0;pwned\\x07name');
    expect((await cluster.cli(['gates'])).stdout).toContain('Ship it?\\x1b[2J\\x1b[H\\x0dfake: approved');
  });
});
