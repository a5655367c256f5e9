/**
 * The tools that start work: one script, a DAG, a pipeline YAML, and jobs added to a running run.
 * Scripts travel as content, straight to the master; the only files read are those a YAML names,
 * and only inside the root folder.
 */
import { relative } from 'node:path';
import { TitanError } from '../core/errors.js';
import { gateIdFor, injectGates } from '../core/gates.js';
import type { JobInput, RunInput, TitanClient } from '../sdk/client.js';
import type { RootFolder } from './root.js';
import { type DagJob, ExtendRunInput, type JobFields, SubmitDagInput, SubmitJobInput, SubmitYamlInput } from './schemas.js';
import { type DefineTool, writes } from './tool.js';

export function registerSubmitTools(tool: DefineTool, client: TitanClient, root: RootFolder, parsePipeline: (text: string, path: string) => RunInput): void {
  tool(
    'submit_job',
    { title: 'Submit one script', description: 'Runs one script (given as content and file name) as a one-job run, or starts it as a service (kind "service"). Returns the run id and job reference; follow it with wait_for_run and get_job_logs.', annotations: writes },
    SubmitJobInput,
    async (p) => {
      const name = p.script_name ?? (p.job_id ? `${p.job_id}.py` : 'job.py');
      const id = p.job_id ?? (name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[.-]+/, '') || 'job');
      const job = toJob(id, { ...p, script_name: name }, []);
      const { runId, jobs } = await client.submit({ name: p.run_name ?? name, jobs: [job], ...runFields(p) });
      return { runId, jobId: id, ref: `${runId}/${id}`, jobs };
    },
  );

  tool(
    'submit_dag',
    {
      title: 'Submit a DAG',
      description: 'Submits several jobs as one run; each job names the jobs it depends_on and carries its script as content (file name default "<id>.py"). A job with hitl_message gets an approval gate after it (Titan\'s hitl-gate-<id>); kind "approval" is a gate of its own.',
      annotations: writes,
    },
    SubmitDagInput,
    async (p) => {
      const submitted = await client.submit({ name: p.name, jobs: dagJobs(p.jobs), ...runFields(p) });
      return { runId: submitted.runId, jobs: submitted.jobs };
    },
  );

  tool(
    'extend_run',
    {
      title: 'Add jobs to a run',
      description: 'Adds jobs to a run, in the shape of submit_dag\'s jobs; their depends_on may name any job of the run, old or new. A finished run is reopened. Returns the ids added (with any hitl-gate-<id> gates).',
      annotations: writes,
    },
    ExtendRunInput,
    async (p) => client.extendRun(dagJobs(p.jobs), p.run_id),
  );

  tool(
    'submit_yaml',
    {
      title: 'Submit a pipeline YAML',
      description: `Submits a pipeline written in Titan's YAML (name, jobs with id, file, depends_on, requirement, ...), passed as text. Each job's "file:" is read from the server's root folder (${root.path}), relative to base_dir; a path outside the root is refused.`,
      annotations: writes,
    },
    SubmitYamlInput,
    async (p) => {
      const base = root.inside(p.base_dir);
      if (base === null) throw new TitanError('FORBIDDEN', `base_dir ${p.base_dir} is outside the root folder ${root.path}`);
      const path = `${base}/pipeline.yaml`;
      let run: RunInput;
      try {
        run = parsePipeline(p.yaml, path);
      } catch (err) {
        throw new TitanError('BAD_REQUEST', (err as Error).message.split(path).join('yaml'));
      }
      const jobs: JobInput[] = [];
      for (const job of run.jobs) {
        if (typeof job.script !== 'string') {
          jobs.push(job);
          continue;
        }
        const shown = relative(root.path, job.script) || job.script;
        try {
          jobs.push({ ...job, script: await root.readScript(job.script, shown) });
        } catch (err) {
          if (err instanceof TitanError) throw new TitanError(err.code, `job "${job.id}": ${err.message}`);
          throw err;
        }
      }
      const submitted = await client.submit({ ...run, jobs, ...(p.agent_run_id !== undefined && { agentRunId: p.agent_run_id }) });
      return { runId: submitted.runId, name: run.name, jobs: submitted.jobs };
    },
  );
}

/** The jobs of submit_dag and extend_run, each job with a hitl_message followed by Titan's gate. */
function dagJobs(input: DagJob[]): JobInput[] {
  const jobs = input.map((j) => toJob(j.id, j, j.depends_on));
  const messages = new Map(input.filter((j) => j.kind !== 'approval' && j.hitl_message !== undefined).map((j) => [j.id, j.hitl_message as string]));
  return injectGates(jobs, (job): JobInput | null => {
    const message = messages.get(job.id);
    return message === undefined ? null : { id: gateIdFor(job.id), kind: 'approval', message };
  });
}

/** The run's own fields a tool takes: its agent run, its fairness group and its notification URLs. */
function runFields(p: { agent_run_id?: string | undefined; fairness?: RunInput['fairness']; on?: RunInput['on'] }): Pick<RunInput, 'agentRunId' | 'fairness' | 'on'> {
  return { ...(p.agent_run_id !== undefined && { agentRunId: p.agent_run_id }), ...(p.fairness !== undefined && { fairness: p.fairness }), ...(p.on !== undefined && { on: p.on }) };
}

const ms = (seconds: number): number => Math.max(1, Math.round(seconds * 1000));

/** One job of the SDK's shape, with its script as content (never a path the SDK would read). */
function toJob(id: string, j: JobFields, dependsOn: string[]): JobInput {
  const delay = j.delay_seconds === undefined ? {} : { delayMs: Math.round(j.delay_seconds * 1000) };
  // A gate's flow fields are passed on too, for the master's one rule about them to refuse.
  const flow = { ...(j.concurrency !== undefined && { concurrency: j.concurrency }), ...(j.rate_limit !== undefined && { rateLimit: j.rate_limit }) };
  if (j.kind === 'approval') {
    return { id, kind: 'approval', ...(j.message !== undefined && { message: j.message }), dependsOn, ...delay, ...(j.timeout_seconds !== undefined && { timeoutMs: ms(j.timeout_seconds) }), ...flow };
  }
  return {
    id,
    ...(j.kind === 'service' && {
      kind: 'service' as const,
      service: { ...(j.port !== undefined && { port: j.port }), ...(j.readiness !== undefined && { readiness: j.readiness }), ...(j.restart !== undefined && { restart: j.restart }) },
    }),
    script: { name: j.script_name ?? `${id}.py`, content: j.script_content ?? '' },
    args: j.args,
    dependsOn,
    requirement: j.requirement,
    priority: j.priority,
    retries: j.retries,
    ...delay,
    ...(j.timeout_seconds !== undefined && { timeoutMs: ms(j.timeout_seconds) }),
    ...(j.env !== undefined && { env: j.env }),
    ...(j.secrets !== undefined && { secrets: j.secrets }),
    ...flow,
  };
}
