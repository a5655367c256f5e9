/**
 * `titan mcp`: Titan as tools for an MCP client (an AI agent) over stdio. It covers the eleven
 * tools of Titan's own MCP server (ping, submit a job, a DAG or a YAML pipeline, job status and
 * logs, approve and reject a gate, data bus get and put, deploy a script) and adds what an agent
 * needs to run a whole workflow: wait for a run, list runs, workers, gates and keys, extend a
 * running run, retry a job, rerun a run, cancel, stop a service, statistics and artifacts.
 *
 * Unlike Titan's, it writes no file anywhere: scripts travel as content, straight to the master.
 * The only files it reads are the scripts a YAML pipeline names, and only inside the root folder.
 * Every tool's input is checked by its zod schema (schemas.ts); a failure, whether bad input or the
 * master's refusal, comes back as a tool error carrying the message (tool.ts), and the server goes
 * on. Standard output is the protocol; anything else goes to standard error.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { VERSION } from '../core/version.js';
import type { RunInput, TitanClient } from '../sdk/client.js';
import { registerDataTools } from './data-tools.js';
import { registerGateTools } from './gate-tools.js';
import type { RootFolder } from './root.js';
import { registerRunTools } from './run-tools.js';
import { registerSubmitTools } from './submit-tools.js';
import { toolDefiner } from './tool.js';

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

const INSTRUCTIONS = `Titan runs scripts, DAG pipelines, services and approval gates on a cluster of workers.
A job is referred to as runId/jobId, or by its bare job id for its latest run. Submitting returns
the run id; wait_for_run follows a run to its end, get_job_logs shows a job's output, extend_run
adds jobs to a running run, retry_job and rerun_run run work again. Scripts are passed as content;
submit_yaml reads the files a pipeline names only from the server's root folder.`;

export function createTitanMcpServer(options: TitanMcpOptions): McpServer {
  const { client } = options;
  const log = options.log ?? ((line: string) => void process.stderr.write(`titan mcp: ${line}\n`));
  const server = new McpServer({ name: 'titan', version: VERSION }, { instructions: INSTRUCTIONS });
  const tool = toolDefiner(server, log);
  registerSubmitTools(tool, client, options.root, options.parsePipeline);
  registerRunTools(tool, client, options.master);
  registerGateTools(tool, client);
  registerDataTools(tool, client);
  return server;
}

/** The tools, in the order they are registered (for documentation and tests). */
export const TOOL_NAMES = [
  // submit-tools.ts
  'submit_job',
  'submit_dag',
  'extend_run',
  'submit_yaml',
  // run-tools.ts
  'ping',
  'stats',
  'list_workers',
  'list_limits',
  'list_runs',
  'wait_for_run',
  'rerun_run',
  'cancel',
  'get_job_status',
  'get_job_logs',
  'retry_job',
  'stop_service',
  // gate-tools.ts
  'list_gates',
  'approve',
  'reject',
  // data-tools.ts
  'store_get',
  'store_put',
  'list_store_keys',
  'list_secrets',
  'deploy_script',
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
