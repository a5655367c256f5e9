// An agent loop inside a Titan job. The worker sets TITAN_SDK (the path of its own SDK) and
// TITAN_HOST/PORT/TOKEN/RUN_ID, so the SDK needs no installation and no configuration here.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

if (!process.env.TITAN_SDK) {
  console.error('run me as a Titan job (npx titan submit examples/agent/pipeline.yaml): TITAN_SDK is set by the worker');
  process.exit(2);
}
const { TitanClient, job } = await import(pathToFileURL(process.env.TITAN_SDK).href);

const { values } = parseArgs({ options: { target: { type: 'string', default: '50' }, 'max-rounds': { type: 'string', default: '5' } } });
const target = Number(values.target);
const maxRounds = Number(values['max-rounds']);

const client = new TitanClient();
const runId = process.env.TITAN_RUN_ID;
// Project mode: step.py was unpacked next to this file.
const step = { name: 'step.py', content: await readFile(new URL('./step.py', import.meta.url)) };

let value = 1;
let previous = null;
try {
  for (let round = 1; round <= maxRounds; round++) {
    const id = `step-${round}`;
    // Each step follows the previous one; the first has no parent (not this job: it is still running).
    const next = job(id, step).args('--round', round, '--value', value).retries(1);
    if (previous) next.after(previous);
    await client.extendRun([next]);
    const done = await client.waitForJob(`${runId}/${id}`);
    if (done.status !== 'COMPLETED') throw new Error(`${id} ended ${done.status}: ${done.error ?? ''}`);
    // The step wrote result.json to $TITAN_OUTPUT_DIR: it is an artifact of that attempt.
    const result = JSON.parse((await client.getArtifact(`runs/${runId}/${id}/${done.attempt}/result.json`)).toString());
    value = result.value;
    console.log(`round ${round}: value ${value}`);
    if (value >= target) {
      console.log(`target ${target} reached after ${round} rounds: stopping`);
      break;
    }
    previous = id;
  }
  await client.set(`agent-loop:${runId}:result`, String(value));
} finally {
  client.close();
}
