/**
 * Titan's address of a pipeline, `/dags/<dag_id>[?job=<id>]`: finds the run it means and replaces
 * the address with that run's page. A dag id is a run id here, or Titan's `DAG-<name>` (or a bare
 * name): the latest run of that pipeline. `?job=` keeps its job, Titan's `DAG-<id>` read as `<id>`.
 * An id that matches nothing says so, as Titan's empty state did.
 */
import { useEffect, useState } from 'react';
import { ApiError, apiGet, apiPath, query, type RunSummary, type RunView } from '../api.ts';
import { runUrl } from '../components/links.tsx';
import { Empty, ErrorBox, Loading, PageHeader } from '../components/ui.tsx';
import { Link, navigate, useRoute } from '../router.tsx';
import { titanDagNames, titanJobId } from '../routes.ts';

/** The newest runs searched for a pipeline's name (the API's search window). */
const SEARCH_LIMIT = 1000;

export default function TitanDag() {
  const route = useRoute();
  const dagId = route.params.dagId ?? '';
  const job = route.query.get('job');
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let current = true;
    setMissing(false);
    setError(undefined);
    resolveRun(dagId, job)
      .then((found) => {
        if (!current) return;
        if (found) navigate(runUrl(found.runId, found.jobId), { replace: true });
        else setMissing(true);
      })
      .catch((err: unknown) => current && setError(err));
    return () => {
      current = false;
    };
  }, [dagId, job, attempt]);

  if (error !== undefined) {
    return (
      <div className="page">
        <PageHeader title={<code>{dagId}</code>} />
        <ErrorBox error={error} onRetry={() => setAttempt((n) => n + 1)} />
      </div>
    );
  }
  if (!missing) return <Loading label="Finding the run…" />;
  return (
    <div className="page">
      <PageHeader title={<code>{dagId}</code>} />
      <Empty>
        No run has the id <code>{dagId}</code>, and no pipeline of that name has run. <Link to="/runs">See every run</Link>.
      </Empty>
    </div>
  );
}

/** The run a dag id means and the job `?job=` names in it; null when there is none. */
async function resolveRun(dagId: string, job: string | null): Promise<{ runId: string; jobId: string | null } | null> {
  const runId = await findRunId(dagId);
  if (runId === null) return null;
  // The run's jobs are read only when a Titan job id may need translating.
  if (job === null || !job.startsWith('DAG-')) return { runId, jobId: job };
  const view = await runOrNull(runId);
  return { runId, jobId: titanJobId(job, view ? view.jobs.map((j) => j.spec.id) : []) };
}

/** Searched first (the search matches run ids too), so a pipeline's name costs no failed request. */
async function findRunId(dagId: string): Promise<string | null> {
  for (const name of titanDagNames(dagId)) {
    const runs = await searchRuns(name);
    const found = runs.find((r) => r.runId === dagId) ?? runs.find((r) => r.name === name);
    if (found) return found.runId;
  }
  // A run older than the search window, by its id.
  return (await runOrNull(dagId))?.run.runId ?? null;
}

/** The newest runs whose name or id contains `text`, newest first (none for text the search refuses). */
async function searchRuns(text: string): Promise<RunSummary[]> {
  try {
    return (await apiGet<{ runs: RunSummary[] }>(`/api/runs${query({ q: text, limit: SEARCH_LIMIT })}`)).runs;
  } catch (err) {
    if (err instanceof ApiError && err.status === 400) return [];
    throw err;
  }
}

/** The run of this id, or null when there is none (or the id cannot be one). */
async function runOrNull(runId: string): Promise<RunView | null> {
  try {
    return await apiGet<RunView>(apiPath('runs', runId));
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 400)) return null;
    throw err;
  }
}
