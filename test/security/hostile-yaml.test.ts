/**
 * Pipeline YAML from a client holding only a read token, as an attacker would send it: nesting a
 * million levels deep, and a large valid pipeline. The master answers each with a refusal or a
 * result and serves other clients without a stall meanwhile (the text is parsed on its own thread).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readToken } from '../../src/protocol/derived-tokens.js';
import { TitanClient } from '../../src/sdk/client.js';
import { Cluster } from '../helpers/cluster.js';

/** The longest gap between answers to `ping` while `during` runs. */
async function longestStall(client: TitanClient, during: Promise<unknown>): Promise<number> {
  let done = false;
  void during.finally(() => (done = true)).catch(() => undefined);
  let worst = 0;
  while (!done) {
    const started = Date.now();
    await client.call('stats', {});
    worst = Math.max(worst, Date.now() - started);
    await new Promise((r) => setTimeout(r, 10));
  }
  return worst;
}

describe('hostile pipeline YAML', () => {
  const cluster = new Cluster();
  let reader: TitanClient;
  let other: TitanClient;

  beforeAll(async () => {
    await cluster.startMaster();
    reader = new TitanClient({ host: '127.0.0.1', port: cluster.port, token: readToken(cluster.token) });
    other = cluster.client();
  });
  afterAll(async () => {
    reader.close();
    await cluster.stop();
  });

  it('refuses a million nested brackets at once, twice, and the master stays up and responsive', async () => {
    for (let i = 0; i < 2; i++) {
      const attack = reader.call('pipeline.parse', { text: `jobs: ${'['.repeat(1_000_000)}` });
      const stall = await longestStall(other, attack);
      await expect(attack).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/nested more than 64 deep/) });
      expect(stall).toBeLessThan(500);
    }
    expect((await other.stats()).uptimeMs).toBeGreaterThan(0);
  });

  it('parses a large valid pipeline without holding up other clients', async () => {
    const jobs = Array.from({ length: 8_000 }, (_, i) => `  - id: j${i}\n    file: a.py\n    args: [one, two]\n${i > 0 ? `    depends_on: [j${i - 1}]\n` : ''}`);
    const text = `name: big\njobs:\n${jobs.join('')}`;
    const parse = reader.call('pipeline.parse', { text });
    const stall = await longestStall(other, parse);
    expect((await parse).pipeline.jobs).toHaveLength(8_000);
    expect(stall).toBeLessThan(500);
  });
});
