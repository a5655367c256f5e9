/**
 * What the commands that wait share: following a run with the live progress display (submit,
 * dag, retry, rerun), saying why a job cannot be placed (run) and waiting until a service is up
 * (run --service, deploy).
 */
import type { JobView, RunView } from '../protocol/methods.js';
import type { TitanClient } from '../sdk/client.js';
import { json, print } from './connection.js';
import { colourStatus, dim, duration, outcome, table } from './format.js';
import { jobDetail, newWaitingReason, Progress } from './progress.js';

/**
 * Ctrl-C while a command waits stops the waiting, not the work: say so and how to stop the work
 * too, then exit 130 as after any interrupt.
 */
export function sayOnInterrupt(what: string, stop: string): void {
  process.once('SIGINT', () => {
    process.stderr.write(`\ntitan: stopped waiting; ${what} goes on (${stop} stops it)\n`);
    process.exit(130);
  });
}

/** A run's jobs, one line each: why a job waits, or what went wrong. */
export function printJobs(jobs: JobView[]): void {
  print(table(['JOB', 'STATUS', 'ATTEMPTS', 'WORKER', 'TOOK', 'DETAIL'], jobs.map((j) => [j.spec.id, colourStatus(j.status), String(j.attempt), j.workerId ?? '-', duration(j.finishedAt !== null && j.startedAt !== null ? j.finishedAt - j.startedAt : null), jobDetail(j)])));
}

/**
 * Follows a run with the progress display (on standard error) until it ends or only its services
 * still run, then prints its jobs (or, with `json`, the final run view). Sets the exit code: 0
 * only if every job completed or is a service that is up.
 */
export async function followRun(client: TitanClient, runId: string, o: { json: boolean }): Promise<RunView> {
  sayOnInterrupt(`run ${runId}`, `titan cancel --run ${runId}`);
  let progress: Progress | null = null;
  const final = await client.waitForRun(
    runId,
    (e) => {
      if (o.json) return;
      if (e.type === 'snapshot') progress = new Progress(e.view);
      else progress?.update(e);
    },
    { untilServicesUp: true },
  );
  (progress as Progress | null)?.finish(final);
  if (o.json) json(final);
  else printJobs(final.jobs);
  const up = final.jobs.filter((j) => j.service !== null && j.status === 'RUNNING');
  if (!o.json && up.length > 0) print(`${up.length} service(s) keep running: see titan services; stop one with titan stop <service>`);
  process.exitCode = final.jobs.every((j) => j.status === 'COMPLETED' || up.includes(j)) ? 0 : 1;
  return final;
}

/**
 * Says on standard error why a job of the run waits (cannot be placed, held back by a key or a
 * rate limit, delayed, retrying after backoff), once for each reason, until the run ends (or the
 * client closes): `titan run` shows the job's output, which says nothing while it waits.
 */
export function sayWhyWaiting(client: TitanClient, runId: string): void {
  const seen = new Set<string>();
  void (async () => {
    for await (const e of client.watchRun(runId)) {
      for (const j of e.type === 'snapshot' ? e.view.jobs : e.type === 'job' ? [e.job] : []) {
        const reason = newWaitingReason(seen, j);
        if (reason !== null) process.stderr.write(dim(`${j.ref} ${j.status}: ${reason}\n`));
      }
    }
    // Best effort: the job's output and exit code, which `run` is for, do not depend on it.
  })().catch(() => undefined);
}

/**
 * Waits until the service `runId/jobId` just submitted is up (or has ended), then says where it
 * runs and on which port (with `json`: its job view). Exit code 1 if it is not running.
 */
export async function awaitService(client: TitanClient, runId: string, jobId: string, o: { json: boolean }): Promise<JobView> {
  const ref = `${runId}/${jobId}`;
  process.stderr.write(dim(`submitted ${ref}; waiting until it is ready\n`));
  sayOnInterrupt(`service ${ref}`, `titan stop ${ref}`);
  const { jobs } = await client.waitForRun(runId, undefined, { untilServicesUp: true });
  const job = jobs.find((j) => j.spec.id === jobId) ?? (jobs[0] as JobView);
  if (job.status !== 'RUNNING') {
    if (o.json) json(job);
    process.stderr.write(`${ref} ${outcome(job)} (see titan logs ${ref})\n`);
    process.exitCode = 1;
    return job;
  }
  if (o.json) {
    json(job);
    return job;
  }
  const where = job.workerId === null ? '' : ` on ${job.workerId}`;
  print(`service ${ref} is up${where}, port ${job.service?.port ?? '-'}; titan logs -f ${ref} follows it, titan stop ${ref} stops it`);
  return job;
}
