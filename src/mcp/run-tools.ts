/**
 * The tools that follow and steer work once it is submitted: the cluster (ping, stats, workers, flow limits),
 * runs (list, wait, rerun, cancel) and jobs (status, output, retry, stop a service).
 */
import { isTerminal } from '../core/model.js';
import type { RunView } from '../protocol/methods.js';
import type { TitanClient } from '../sdk/client.js';
import { CancelInput, JobRefInput, ListRunsInput, LogsInput, NoInput, RunIdInput, WaitInput } from './schemas.js';
import { type DefineTool, destroys, readOnly, writes } from './tool.js';
import { attemptView, jobView, runSummaryView, runView, tail, workerView } from './views.js';

/** `master`: where the master is, as ping shows it. */
export function registerRunTools(tool: DefineTool, client: TitanClient, master: string): void {
  tool('ping', { title: 'Ping the master', description: 'Checks that the Titan master is reachable; returns its address, uptime and connected workers.', annotations: readOnly }, NoInput, async () => {
    const s = await client.stats();
    return { status: 'ok', master, uptimeMs: s.uptimeMs, workers: s.workers.connected, slots: s.workers.slots, busySlots: s.workers.busySlots, activeRuns: s.runs.active };
  });

  tool('stats', { title: 'Cluster statistics', description: 'Workers, slots, pools, queued and active jobs, totals and the autoscaler.', annotations: readOnly }, NoInput, () => client.stats());

  tool('list_workers', { title: 'Workers', description: 'The workers the master knows: state, capabilities, slots and how many are busy, the attempts and services each runs.', annotations: readOnly }, NoInput, async () => (await client.workers()).map(workerView));

  tool(
    'list_limits',
    {
      title: 'Flow limits',
      description: "Flow-control keys (concurrency keys and rate limits): each key's cluster limit, the jobs holding it, how many wait for it and when its next rate token is due (epoch ms). A job that waits on a key is held back, not failed.",
      annotations: readOnly,
    },
    NoInput,
    async () => ({ keys: await client.limits.list() }),
  );

  tool('list_runs', { title: 'Recent runs', description: 'Recent runs, newest first, with job counts by status.', annotations: readOnly }, ListRunsInput, async (p) => {
    const runs = await client.listRuns({ limit: p.limit, ...(p.status !== undefined && { status: p.status }) });
    return runs.map(runSummaryView);
  });

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

  tool('rerun_run', { title: 'Run again', description: "Submits a run's jobs again as a new run (the same scripts, arguments and dependencies); returns the new run id.", annotations: writes }, RunIdInput, async (p) => {
    const { runId, jobs } = await client.rerun(p.run_id);
    return { runId, rerunOf: p.run_id, jobs };
  });

  tool('cancel', { title: 'Cancel', description: 'Cancels a job (the jobs after it are skipped), or with run: true every unfinished job of a run.', annotations: destroys }, CancelInput, async (p) => {
    if (p.run) return { runId: p.ref, cancelled: await client.cancelRun(p.ref) };
    return jobView(await client.cancel(p.ref));
  });

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

  tool(
    'retry_job',
    { title: 'Retry a job', description: 'Runs a DEAD or CANCELLED job again in its run, with a fresh retry budget; the jobs it had skipped wait for it again. Refused for a job that has not ended that way.', annotations: writes },
    JobRefInput,
    async (p) => jobView(await client.retryJob(p.ref)),
  );

  tool('stop_service', { title: 'Stop a service', description: 'Stops a service job for good (its process is killed and not restarted).', annotations: destroys }, JobRefInput, async (p) => jobView(await client.stopService(p.ref)));
}

/** Every job has ended except services, which are up; and something is still running. */
function servicesUp(view: RunView): boolean {
  const settled = view.jobs.every((j) => isTerminal(j.status) || (j.service !== null && j.status === 'RUNNING' && j.service.readyAt !== null));
  return settled && view.jobs.some((j) => !isTerminal(j.status));
}
