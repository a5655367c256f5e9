/**
 * Input schemas of the MCP tools. They are strict (an unknown argument is an error, so a typo is
 * reported instead of ignored) and free of transforms, so each converts to the JSON Schema the
 * MCP client shows the model; the rules the JSON Schema cannot say are checked by refinements.
 * Where a tool takes a v2 method's parameters, its schema is that method's (P), picked or
 * extended, so the tool checks exactly what the master will.
 */
import { z } from 'zod';
import { DATA_LIMITS } from '../core/data.js';
import { DEFAULT_GATE_WAIT_MS, IdSchema, JobSpecSchema, LIMITS, ReadinessSchema, RESTART_POLICIES, RunSpecSchema, ServiceSpecSchema } from '../core/model.js';
import { ENV_NAME_PATTERN, ID_PATTERN } from '../core/names.js';
import { METHOD_PARAMS as P } from '../sdk/method-params.js';

const ID = ID_PATTERN.source.slice(1, -1);

/**
 * `runId/jobId`, or a bare job id meaning that job in its latest run: the protocol's reference,
 * its form checked here too so that a model's malformed reference is named as such.
 */
const JobRefSchema = P['job.get'].shape.ref
  .regex(new RegExp(`^(${ID}/)?${ID}$`), 'a job reference is runId/jobId, or a job id for that job in its latest run')
  .describe('runId/jobId, or a bare job id for that job in its latest run');

/** A bare file name: no folder, no "..", no NUL. */
export const FileNameSchema = P['files.put'].shape.name;

const ScriptNameSchema = FileNameSchema.describe('file name of the script, e.g. "train.py"; its extension picks the interpreter (.py, .js, .sh, or an executable)');
const ScriptContentSchema = z
  .string()
  .refine((s) => Buffer.byteLength(s) <= LIMITS.maxScriptBytes, `a script is at most ${LIMITS.maxScriptBytes} bytes`)
  .describe('the whole script, as text');
const ArgsSchema = z.array(z.string().max(LIMITS.maxArgLength)).max(LIMITS.maxArgs).default([]).describe('arguments passed to the script');
const EnvSchema = z.record(z.string().regex(ENV_NAME_PATTERN, 'environment names are identifiers'), z.string().max(LIMITS.maxArgLength)).optional().describe('extra environment variables for the job');
const SecondsSchema = (max: number) => z.number().positive().max(max);
const jobSpec = JobSpecSchema.in.shape;

/** What one job of submit_job and submit_dag may say; `kind` decides which fields apply. */
const jobFields = {
  kind: z.enum(['run', 'service', 'approval']).default('run').describe('"run" (default) runs the script once; "service" keeps it up and gives it $PORT until stopped; "approval" is a gate a person approves or rejects (no script)'),
  script_name: ScriptNameSchema.optional(),
  script_content: ScriptContentSchema.optional(),
  args: ArgsSchema,
  requirement: jobSpec.requirement.describe('capability the worker must have, e.g. GENERAL or GPU'),
  priority: jobSpec.priority.describe('higher runs first'),
  retries: jobSpec.retries.describe('retries after a failure, each after a growing backoff (1 s, 2 s, 4 s, ...)'),
  timeout_seconds: SecondsSchema(LIMITS.maxTimeoutMs / 1000).optional().describe(`kill the job after this long (default: no limit); a gate: how long it waits for a decision (default ${DEFAULT_GATE_WAIT_MS / 3_600_000} hours)`),
  delay_seconds: z.number().min(0).max(LIMITS.maxDelayMs / 1000).optional().describe('wait this long before the job may start'),
  env: EnvSchema,
  secrets: jobSpec.secrets.describe('names of the cluster\'s secrets (set with `titan secrets set NAME`) the job receives as environment variables; values are never given here'),
  message: jobSpec.message.describe('an approval gate: the question it asks'),
  port: ServiceSpecSchema.shape.port.describe('a service: a fixed port (default: a free one from the master\'s range)'),
  readiness: ReadinessSchema.optional().describe('a service: "tcp" (default), "none", or an HTTP path such as "/health"'),
  restart: z.enum(RESTART_POLICIES).optional().describe('a service: when to restart it (default "always")'),
  concurrency: jobSpec.concurrency.describe('{key, limit}: at most limit jobs holding key run at once, cluster-wide; key may use {run} {name} {agentRun} {job} {args.N} {env.NAME} {tags.NAME}'),
  rate_limit: jobSpec.rateLimit.describe('{key, limit, per ("second", "minute", "hour" or "day"), burst}: each start draws a token from the bucket key'),
};

export type JobFields = z.output<z.ZodObject<typeof jobFields>>;

function checkJob(job: JobFields, ctx: z.RefinementCtx): void {
  if (job.kind === 'approval') {
    for (const key of ['script_name', 'script_content', 'port', 'readiness', 'restart', 'secrets'] as const) {
      if (job[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'does not apply to an approval gate (it runs no script)' });
    }
    return;
  }
  if (job.script_content === undefined) ctx.addIssue({ code: 'custom', path: ['script_content'], message: `is required for a ${job.kind} job` });
  if (job.message !== undefined) ctx.addIssue({ code: 'custom', path: ['message'], message: 'applies only to an approval gate (kind "approval")' });
  if (job.kind === 'service' && job.timeout_seconds !== undefined) ctx.addIssue({ code: 'custom', path: ['timeout_seconds'], message: 'does not apply to a service (it runs until stopped)' });
  if (job.kind === 'run') {
    for (const key of ['port', 'readiness', 'restart'] as const) {
      if (job[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'applies only to a service (kind "service")' });
    }
  }
}

const RunNameSchema = RunSpecSchema.shape.name.removeDefault();
const FairnessInput = RunSpecSchema.shape.fairness.describe("{key, weight}: the group the run's jobs take turns in within a priority (default: the run itself)");
const NotifyInput = RunSpecSchema.shape.on.describe('{failure, success, gate}: http(s) URLs the master POSTs a signed JSON notification to when the run fails, completes or a gate opens (Slack incoming webhooks work as they are)');
const AgentRunSchema = IdSchema.optional().describe('make the run a stage of this agent run');

export const SubmitJobInput = z
  .strictObject({
    ...jobFields,
    job_id: IdSchema.optional().describe('the job id (default: from the script name)'),
    run_name: RunNameSchema.optional().describe('the run name (default: the script name)'),
    agent_run_id: AgentRunSchema,
    fairness: FairnessInput,
    on: NotifyInput,
  })
  .superRefine(checkJob);

export const DagJobSchema = z
  .strictObject({
    id: IdSchema.describe('job id, unique in the run'),
    ...jobFields,
    depends_on: z.array(IdSchema).default([]).describe('ids of the jobs that must complete first'),
    hitl_message: jobSpec.message.describe('Titan\'s gate: insert an approval gate after this job asking this question; its dependents wait for the decision'),
  })
  .superRefine(checkJob)
  .superRefine((job, ctx) => {
    if (job.kind === 'approval' && job.hitl_message !== undefined) ctx.addIssue({ code: 'custom', path: ['hitl_message'], message: 'does not apply to an approval gate; give its question as message' });
  });

export type DagJob = z.output<typeof DagJobSchema>;

const DagJobsSchema = z.array(DagJobSchema).min(1, 'give at least one job').max(10_000);

export const SubmitDagInput = z.strictObject({
  name: RunNameSchema.default('dag').describe('the run name'),
  jobs: DagJobsSchema,
  agent_run_id: AgentRunSchema,
  fairness: FairnessInput,
  on: NotifyInput,
});

export const ExtendRunInput = z.strictObject({
  run_id: IdSchema.describe('the run to add to (a finished run is reopened)'),
  jobs: DagJobsSchema.describe('the new jobs, as in submit_dag; depends_on may name jobs already in the run'),
});

export const SubmitYamlInput = z.strictObject({
  yaml: P['pipeline.parse'].shape.text.min(1).describe('the pipeline YAML (name, jobs with id, file, depends_on, ...) as text'),
  base_dir: z.string().max(4096).default('.').describe('folder, relative to the server\'s root folder, that the jobs\' "file:" paths are relative to'),
  agent_run_id: AgentRunSchema,
});

export const JobRefInput = P['job.get'].extend({ ref: JobRefSchema });

export const LogsInput = z.strictObject({
  ref: JobRefSchema,
  attempt: P['logs.get'].shape.attempt.describe('which attempt (default: the latest)'),
  tail_lines: z.number().int().min(1).max(10_000).default(200).describe('at most this many lines from the end'),
  max_bytes: z.number().int().min(1).max(1024 * 1024).default(64 * 1024).describe('at most this many bytes from the end'),
});

export const DecideInput = z.strictObject({
  gate: JobRefSchema.describe('the gate: runId/gateId, or a gate id for its latest run (Titan\'s gates are hitl-gate-<job>)'),
  comment: P['gate.decide'].shape.comment.removeDefault().unwrap().optional().describe('recorded with the decision, under the name of the MCP server\'s token'),
});

export const StoreGetInput = P['kv.get'];

export const StorePutInput = P['kv.set'].pick({ key: true, value: true }).extend({
  ttl_seconds: z.number().positive().max(DATA_LIMITS.maxTtlMs / 1000).optional().describe('delete the key after this long'),
});

export const DeployScriptInput = z.strictObject({
  name: FileNameSchema.describe('bare file name in the master\'s script library, e.g. "etl.py" (no folders)'),
  content: ScriptContentSchema,
});

export const CancelInput = z.strictObject({
  ref: P['job.cancel'].shape.ref.describe('a job (runId/jobId or job id), or a run id with run: true'),
  run: z.boolean().default(false).describe('ref is a run id: cancel all of the run'),
});

export const WaitInput = z.strictObject({
  run_id: IdSchema,
  timeout_seconds: z.number().positive().max(3600).default(30).describe('give up waiting after this long and return the current state (keep it under the MCP client\'s request timeout, often 60 s)'),
  until_services_up: z.boolean().default(false).describe('return once every job has ended except services, which are up'),
});

export const ListRunsInput = P['runs.list'].pick({ status: true }).extend({
  limit: P['runs.list'].shape.limit.removeDefault().default(20),
});

export const ListArtifactsInput = z.strictObject({
  prefix: P['artifact.list'].shape.prefix.describe('only keys starting with this'),
  run_id: P['artifact.list'].shape.runId.describe('only the output files of this run'),
  limit: P['artifact.list'].shape.limit.removeDefault().default(100),
});

export const MAX_ARTIFACT_READ = 4 * 1024 * 1024;

export const GetArtifactInput = P['artifact.get'].pick({ key: true }).extend({
  encoding: z.enum(['auto', 'text', 'base64']).default('auto').describe('"auto": text when the content is valid UTF-8, else base64'),
  max_bytes: z.number().int().min(1).max(MAX_ARTIFACT_READ).default(256 * 1024).describe('refuse artifacts larger than this'),
});

export const PutArtifactInput = z
  .strictObject({
    key: P['artifact.put.begin'].shape.key,
    content: z.string().max(Math.ceil((MAX_ARTIFACT_READ * 4) / 3) + 4).describe('the content: text, or base64 with encoding "base64"'),
    encoding: z.enum(['text', 'base64']).default('text'),
  })
  .superRefine((p, ctx) => {
    if (p.encoding === 'base64' && !/^[A-Za-z0-9+/]*={0,2}$/.test(p.content.replace(/\s+/g, ''))) ctx.addIssue({ code: 'custom', path: ['content'], message: 'is not valid base64' });
  });

export const RunIdInput = z.strictObject({ run_id: P['run.rerun'].shape.runId });

export const ListGatesInput = P['gates.list'].extend({
  history: P['gates.list'].shape.history.describe('also return this many of the latest decisions'),
});

export const ListKeysInput = P['kv.keys'].extend({
  prefix: P['kv.keys'].shape.prefix.describe('only keys starting with this, e.g. "agent:"'),
  limit: P['kv.keys'].shape.limit.removeDefault().default(100),
});

/** Tools of methods without parameters (stats, workers.list) and ping. */
export const NoInput = P.stats;
