/**
 * Submissions: a run, a DAG in Titan's line format, the scripts they reference (content-addressed
 * blobs) and pipeline YAML parsed for clients without a YAML library. Titan's v1 commands submit
 * through here too (titanJobSpec, submitTitanJobs).
 */
import { TitanError } from '../../core/errors.js';
import { type JobSpecInput, RunSpecSchema } from '../../core/model.js';
import { describeIssues } from '../../protocol/peer.js';
import { parseV1Dag, V1DagError, type V1Job } from '../../protocol/v1-dag.js';
import { command, type CommandContext } from './command.js';

const submit = command('submit', async ({ master, origin, principal }, p) => {
  if (principal.attempt) master.checkSecretsWithin(principal.attempt, p.run.jobs);
  return master.submit(p.run, { ...origin, ...(p.requestId !== undefined && { requestId: p.requestId }) });
});

/** Resolves a v1 job's script: inline content becomes a blob; an archive pointer names an upload. */
export function titanJobSpec({ master }: CommandContext, j: V1Job): JobSpecInput {
  const spec: JobSpecInput = {
    id: j.id,
    args: j.args,
    dependsOn: j.dependsOn,
    requirement: j.requirement,
    priority: j.priority,
    delayMs: j.delayMs,
    affinity: j.affinity ? 'soft' : 'none',
  };
  if (j.kind === 'service') {
    // Port 0 means "no port": one is assigned, and nothing is probed.
    spec.kind = 'service';
    spec.service = j.port === null ? { readiness: 'none' } : { port: j.port, readiness: 'tcp' };
  }
  // Titan's gate script exits 1 on a rejection or a timeout: that decision is final, not a failure to retry.
  if (j.source.type === 'inline' && j.source.fileName === 'hitl_gate.py') spec.retries = 0;
  if (j.source.type === 'inline') {
    spec.script = { name: j.source.fileName, sha256: master.blobs.putBuffer(Buffer.from(j.source.base64, 'base64')) };
  } else {
    const zip = master.uploads.get(j.source.zip);
    if (!zip) throw new TitanError('BAD_REQUEST', `Asset not found: ${j.source.zip} (Did you upload it to uploads?)`);
    spec.archive = { name: j.source.zip, sha256: master.blobs.putBuffer(zip), entry: j.source.entry };
  }
  return spec;
}

/** Jobs of Titan's commands submitted as one run, checked as any submission is; `requestId` as for `submit`. */
export async function submitTitanJobs(ctx: CommandContext, name: string, jobs: JobSpecInput[], requestId?: string): Promise<{ runId: string; jobs: string[] }> {
  const run = RunSpecSchema.safeParse({ name, jobs });
  if (!run.success) throw new TitanError('BAD_REQUEST', describeIssues(run.error.issues));
  return submit.handle(ctx, { run: run.data, ...(requestId !== undefined && { requestId }) });
}

export const submissionCommands = {
  submit,
  'dag.submit': command('dag.submit', (ctx, p) => {
    let jobs: V1Job[];
    try {
      jobs = parseV1Dag(p.payload);
    } catch (err) {
      throw err instanceof V1DagError ? new TitanError('INVALID_DAG', err.message) : err;
    }
    return submitTitanJobs(ctx, `v1:${jobs[0]?.id ?? 'dag'}`, jobs.map((j) => titanJobSpec(ctx, j)), p.requestId);
  }),
  'blob.missing': command('blob.missing', ({ master }, p) => ({ missing: p.hashes.filter((h) => !master.blobs.has(h)) })),
  'blob.put': command('blob.put', ({ master }, p) => master.blobs.put(p.sha256, p.offset, Buffer.from(p.data, 'base64'), p.final)),
  // An invalid pipeline throws a BAD_REQUEST whose message is the positioned one.
  'pipeline.parse': command('pipeline.parse', async ({ master }, p) => ({ pipeline: (await master.pipelines.read(p.text, p.path)).doc })),
};
