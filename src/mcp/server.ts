/**
 * `titan mcp`: Titan as tools for an MCP client (an AI agent) over stdio. It covers the eleven
 * tools of Titan's own MCP server (ping, submit a job, a DAG or a YAML pipeline, job status and
 * logs, approve and reject a gate, data bus get and put, deploy a script) and adds cancel, stats,
 * stop_service, wait_for_run, list_runs and artifacts.
 *
 * Unlike Titan's, it writes no file anywhere: scripts travel as content, straight to the master.
 * The only files it reads are the scripts a YAML pipeline names, and only inside the root folder.
 * Every tool's input is checked by its zod schema; a failure, whether bad input or the master's
 * refusal, comes back as a tool error (`isError`) carrying the message, and the server goes on.
 * Standard output is the protocol; anything else goes to standard error.
 */
import { relative } from 'node:path';
import { McpServer, type ToolCallback } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { TitanError } from '../core/errors.js';
import { gateIdFor, injectGates } from '../core/gates.js';
import { isTerminal, type RestartPolicy } from '../core/model.js';
import { VERSION } from '../core/version.js';
import type { RunView } from '../protocol/methods.js';
import type { JobInput, RunInput, TitanClient } from '../sdk/client.js';
import type { RootFolder } from './root.js';
import {
  CancelInput,
  DecideInput,
  DeployScriptInput,
  GetArtifactInput,
  JobRefInput,
  ListArtifactsInput,
  ListRunsInput,
  LogsInput,
  NoInput,
  PutArtifactInput,
  StoreGetInput,
  StorePutInput,
  SubmitDagInput,
  SubmitJobInput,
  SubmitYamlInput,
  WaitInput,
} from './schemas.js';
import { attemptView, jobView, runSummaryView, runView, tail } from './views.js';

export interface TitanMcpOptions {
  client: TitanClient;
  /** The folder submit_yaml may read scripts from. */
  root: RootFolder;
  /** Parses pipeline YAML text into a run whose scripts are absolute paths (the CLI's parser). */
  parsePipeline: (text: string, path: string) => RunInput;
  /** Where the master is, as shown by ping. */
  master: string;
  /** Diagnostics; standard error by default. */
  log?: (line: string) => void;
}

/** Titan's default wait for a gate's decision: 48 hours. */
const DEFAULT_GATE_WAIT_MS = 172_800_000;

const INSTRUCTIONS = `Titan runs scripts, DAG pipelines, services and approval gates on a cluster of workers.
A job is referred to as runId/jobId, or by its bare job id for its latest run. Submitting returns
the run id; wait_for_run follows a run to its end, get_job_logs shows a job's output. Scripts are
passed as content; submit_yaml reads the files a pipeline names only from the server's root folder.`;

type Reply = string | CallToolResult | object;

interface ToolMeta {
  title: string;
  description: string;
  annotations?: ToolAnnotations;
}

const readOnly: ToolAnnotations = { readOnlyHint: true, openWorldHint: false };
const writes: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, openWorldHint: false };
const destroys: ToolAnnotations = { readOnlyHint: false, destructiveHint: true, openWorldHint: false };

export function createTitanMcpServer(options: TitanMcpOptions): McpServer {
  const { client, root } = options;
  const log = options.log ?? ((line: string) => void process.stderr.write(`titan mcp: ${line}\n`));
  const server = new McpServer({ name: 'titan', version: VERSION }, { instructions: INSTRUCTIONS });

  /** Registers a tool whose handler sees only input its schema accepted, and never throws. */
  function tool<S extends z.ZodType>(name: string, meta: ToolMeta, schema: S, handler: (args: z.output<S>) => Promise<Reply>): void {
    // The SDK validates the arguments with `schema` first; they are parsed again here so the
    // handler's input is checked whatever the SDK does.
    const run = async (args: unknown): Promise<CallToolResult> => {
      try {
        const parsed = schema.safeParse(args ?? {});
        if (!parsed.success) return failure(`invalid input: ${issues(parsed.error)}`);
        return reply(await handler(parsed.data));
      } catch (err) {
        const message = errorText(err);
        log(`${name}: ${message}`);
        return failure(message);
      }
    };
    server.registerTool(name, { title: meta.title, description: meta.description, inputSchema: schema, annotations: { title: meta.title, ...meta.annotations } }, run as ToolCallback<S>);
  }

  // ---- Titan's eleven ---------------------------------------------------------------------------

  tool('ping', { title: 'Ping the master', description: 'Checks that the Titan master is reachable; returns its address, uptime and connected workers.', annotations: readOnly }, NoInput, async () => {
    const s = await client.stats();
    return { status: 'ok', master: options.master, uptimeMs: s.uptimeMs, workers: s.workers.connected, slots: s.workers.slots, busySlots: s.workers.busySlots, activeRuns: s.runs.active };
  });

  tool(
    'submit_job',
    { title: 'Submit one script', description: 'Runs one script (given as content and file name) as a one-job run, or starts it as a service (kind "service"). Returns the run id and job reference; follow it with wait_for_run and get_job_logs.', annotations: writes },
    SubmitJobInput,
    async (p) => {
      const name = p.script_name ?? (p.job_id ? `${p.job_id}.py` : 'job.py');
      const id = p.job_id ?? (name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[.-]+/, '') || 'job');
      const job = toJob(id, { ...p, script_name: name }, []);
      const { runId, jobs } = await client.submit({ name: p.run_name ?? name, jobs: [job], ...(p.agent_run_id !== undefined && { agentRunId: p.agent_run_id }) });
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
      const jobs = p.jobs.map((j) => toJob(j.id, j, j.depends_on));
      const messages = new Map(p.jobs.filter((j) => j.kind !== 'approval' && j.hitl_message !== undefined).map((j) => [j.id, j.hitl_message as string]));
      const all = injectGates(jobs, (job): JobInput | null => {
        const message = messages.get(job.id);
        return message === undefined ? null : { id: gateIdFor(job.id), kind: 'approval', message, timeoutMs: DEFAULT_GATE_WAIT_MS };
      });
      const submitted = await client.submit({ name: p.name, jobs: all, ...(p.agent_run_id !== undefined && { agentRunId: p.agent_run_id }) });
      return { runId: submitted.runId, jobs: submitted.jobs };
    },
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
        run = options.parsePipeline(p.yaml, path);
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

  tool('get_job_status', { title: 'Job status', description: "A job's status, exit code, error, worker, service state and attempts.", annotations: readOnly }, JobRefInput, async (p) => {
    const { job, attempts } = await client.getJob(p.ref);
    return { ...jobView(job), attempts: attempts.map(attemptView) };
  });

  tool('get_job_logs', { title: 'Job output', description: "The end of a job's output (the latest attempt by default), at most tail_lines lines and max_bytes bytes.", annotations: readOnly }, LogsInput, async (p) => {
    const out = await client.readLogs(p.ref, p.attempt);
    // What the master could not keep is said too, so that a partial log is not taken for the whole.
    const missing = [out.removed, out.lost && `${out.lost.bytes} bytes of the output could not be stored on the master: ${out.lost.reason}`].filter(Boolean).map((m) => `\n[${m}]`).join('');
    if (out.data.length === 0) return missing === '' ? '(no output yet)' : `(no output)${missing}`;
    const t = tail(out.data, p.tail_lines, p.max_bytes);
    const notes = [t.omittedLines > 0 ? `${t.omittedLines} earlier lines` : '', t.omittedBytes > 0 ? `${t.omittedBytes} more bytes` : ''].filter(Boolean);
    return `${notes.length > 0 ? `[... ${notes.join(' and ')} not shown]\n${t.text}` : t.text}${missing}`;
  });

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

  tool('store_get', { title: 'Read a key', description: "A data bus key's value (null when absent) and version.", annotations: readOnly }, StoreGetInput, async (p) => {
    const e = await client.getVersioned(p.key);
    return { key: p.key, exists: e.value !== null, value: e.value, version: e.version, expiresAt: e.expiresAt === null ? null : new Date(e.expiresAt).toISOString() };
  });

  tool('store_put', { title: 'Write a key', description: 'Sets a data bus key to a string value, optionally expiring; returns its new version.', annotations: writes }, StorePutInput, async (p) => {
    const version = await client.set(p.key, p.value, p.ttl_seconds === undefined ? {} : { ttlMs: Math.max(1, Math.round(p.ttl_seconds * 1000)) });
    return { key: p.key, version };
  });

  tool('deploy_script', { title: 'Deploy a script', description: "Stores a script in the master's script library under a bare file name, replacing one of the same name.", annotations: writes }, DeployScriptInput, async (p) => {
    const stored = await client.putFile('scripts', { name: p.name, content: p.content });
    return { deployed: stored.name, size: stored.size };
  });

  // ---- beyond Titan -------------------------------------------------------------------------------

  tool('cancel', { title: 'Cancel', description: 'Cancels a job (the jobs after it are skipped), or with run: true every unfinished job of a run.', annotations: destroys }, CancelInput, async (p) => {
    if (p.run) return { runId: p.ref, cancelled: await client.cancelRun(p.ref) };
    return jobView(await client.cancel(p.ref));
  });

  tool('stats', { title: 'Cluster statistics', description: 'Workers, slots, pools, queued and active jobs, totals and the autoscaler.', annotations: readOnly }, NoInput, () => client.stats());

  tool('stop_service', { title: 'Stop a service', description: 'Stops a service job for good (its process is killed and not restarted).', annotations: destroys }, JobRefInput, async (p) => jobView(await client.stopService(p.ref)));

  tool(
    'wait_for_run',
    { title: 'Wait for a run', description: 'Waits until a run finishes (or, with until_services_up, until only its services still run and are up) or the timeout passes; returns the run and its jobs either way, with finished true or false.', annotations: readOnly },
    WaitInput,
    async (p) => {
      const deadline = Date.now() + p.timeout_seconds * 1000;
      for (let pause = 100; ; pause = Math.min(1000, Math.round(pause * 1.5))) {
        const view = await client.getRun(p.run_id);
        const finished = view.run.status !== 'RUNNING' || (p.until_services_up && servicesUp(view));
        const left = deadline - Date.now();
        if (finished || left <= 0) return { finished, ...runView(view) };
        await new Promise((r) => setTimeout(r, Math.min(pause, left)));
      }
    },
  );

  tool('list_runs', { title: 'Recent runs', description: 'Recent runs, newest first, with job counts by status.', annotations: readOnly }, ListRunsInput, async (p) => {
    const runs = await client.listRuns({ limit: p.limit, ...(p.status !== undefined && { status: p.status }) });
    return runs.map(runSummaryView);
  });

  tool('list_artifacts', { title: 'List artifacts', description: "Artifacts (files kept on the master) with size, sha256 and the job attempt that produced them; run_id lists a run's output files.", annotations: readOnly }, ListArtifactsInput, async (p) => {
    const list = await client.listArtifacts({ prefix: p.prefix, limit: p.limit, ...(p.run_id !== undefined && { runId: p.run_id }) });
    return list.map((a) => ({ ...a, createdAt: new Date(a.createdAt).toISOString() }));
  });

  tool(
    'get_artifact',
    { title: 'Read an artifact', description: "An artifact's content as text, or base64 when it is binary; refused above max_bytes. The first content item describes it, the second is the content.", annotations: readOnly },
    GetArtifactInput,
    async (p) => {
      const head = await client.call('artifact.get', { key: p.key, offset: 0, limit: 1 });
      const tooBig = (size: number): TitanError => new TitanError('BAD_REQUEST', `artifact "${p.key}" is ${size} bytes, more than max_bytes (${p.max_bytes}); raise max_bytes (up to 4 MiB) or fetch it with titan artifacts get`);
      if (head.artifact.size > p.max_bytes) throw tooBig(head.artifact.size);
      const parts: Buffer[] = [];
      let total = 0;
      const info = await client.readArtifact(p.key, (chunk) => {
        total += chunk.length;
        if (total > p.max_bytes) throw tooBig(total);
        parts.push(chunk);
      });
      const data = Buffer.concat(parts);
      const text = p.encoding === 'base64' ? null : asText(data);
      if (p.encoding === 'text' && text === null) throw new TitanError('BAD_REQUEST', `artifact "${p.key}" is not UTF-8 text; ask for encoding "base64"`);
      const encoding = text === null ? 'base64' : 'text';
      const meta = { key: info.key, size: info.size, sha256: info.sha256, encoding, runId: info.runId, jobId: info.jobId, attempt: info.attempt, createdAt: new Date(info.createdAt).toISOString() };
      return { content: [{ type: 'text', text: JSON.stringify(meta, null, 2) }, { type: 'text', text: text ?? data.toString('base64') }] } satisfies CallToolResult;
    },
  );

  tool('put_artifact', { title: 'Write an artifact', description: 'Stores content (text, or base64 with encoding "base64") as an artifact under a key, replacing one with the same key.', annotations: writes }, PutArtifactInput, async (p) => {
    const data = p.encoding === 'base64' ? Buffer.from(p.content, 'base64') : Buffer.from(p.content, 'utf8');
    const info = await client.publishArtifact(p.key, data);
    return { key: info.key, size: info.size, sha256: info.sha256 };
  });

  return server;
}

/** The tools, in the order they are registered (for documentation and tests). */
export const TOOL_NAMES = [
  'ping',
  'submit_job',
  'submit_dag',
  'submit_yaml',
  'get_job_status',
  'get_job_logs',
  'approve',
  'reject',
  'store_get',
  'store_put',
  'deploy_script',
  'cancel',
  'stats',
  'stop_service',
  'wait_for_run',
  'list_runs',
  'list_artifacts',
  'get_artifact',
  'put_artifact',
] as const;

/**
 * Serves over standard input and output until the client closes standard input (or the
 * transport closes); resolves then, with the server closed.
 */
export async function serveStdio(server: McpServer): Promise<void> {
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
    process.stdin.once('close', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => {});
}

// ---- helpers ----------------------------------------------------------------------------------------

interface JobFieldsInput {
  kind: 'run' | 'service' | 'approval';
  script_name?: string | undefined;
  script_content?: string | undefined;
  args: string[];
  requirement: string;
  priority: number;
  retries: number;
  timeout_seconds?: number | undefined;
  delay_seconds?: number | undefined;
  env?: Record<string, string> | undefined;
  message?: string | undefined;
  port?: number | undefined;
  readiness?: string | undefined;
  restart?: RestartPolicy | undefined;
}

const ms = (seconds: number): number => Math.max(1, Math.round(seconds * 1000));

/** One job of the SDK's shape, with its script as content (never a path the SDK would read). */
function toJob(id: string, j: JobFieldsInput, dependsOn: string[]): JobInput {
  const delay = j.delay_seconds === undefined ? {} : { delayMs: Math.round(j.delay_seconds * 1000) };
  if (j.kind === 'approval') {
    return { id, kind: 'approval', ...(j.message !== undefined && { message: j.message }), dependsOn, ...delay, timeoutMs: j.timeout_seconds === undefined ? DEFAULT_GATE_WAIT_MS : ms(j.timeout_seconds) };
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
  };
}

/** Every job has ended except services, which are up; and something is still running. */
function servicesUp(view: RunView): boolean {
  const settled = view.jobs.every((j) => isTerminal(j.status) || (j.service !== null && j.status === 'RUNNING' && j.service.readyAt !== null));
  return settled && view.jobs.some((j) => !isTerminal(j.status));
}

function reply(value: Reply): CallToolResult {
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] };
  if ('content' in value && Array.isArray((value as CallToolResult).content)) return value as CallToolResult;
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] };
}

function failure(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

function errorText(err: unknown): string {
  if (err instanceof TitanError) return `${err.message} [${err.code}]`;
  if (err instanceof Error) return err.message;
  return String(err);
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
}

/** The bytes as a string when they are valid UTF-8 without NUL bytes, else null. */
function asText(data: Buffer): string | null {
  if (data.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return null;
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
