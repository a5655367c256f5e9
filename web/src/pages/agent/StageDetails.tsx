/**
 * What one stage of an agent run did, loaded when it is opened: its rounds (the jobs it was
 * submitted with, then each set a job added at runtime, naming that job) and its outputs (the
 * artifacts its jobs published), each linking to where it is shown in full.
 */
import { useState } from 'react';
import { apiPath, query, useApi, type ArtifactInfo, type RunView } from '../../api.ts';
import { JobRefLink, runUrl } from '../../components/links.tsx';
import { JobStatusBadge } from '../../components/ui.tsx';
import { formatBytes, formatTime } from '../../format.ts';
import { Link } from '../../router.tsx';
import { keyPath, plural } from '../parts/common.tsx';
import { Loaded } from '../parts/list-parts.tsx';
import { roundsOf } from './rounds.ts';

/** Outputs listed per stage; the Artifacts page has the rest. */
const OUTPUTS_SHOWN = 20;

export function StageDetails({ runId }: { runId: string }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="pg-stage-details" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Rounds and outputs</summary>
      {open ? <StageContent runId={runId} /> : null}
    </details>
  );
}

function StageContent({ runId }: { runId: string }) {
  const run = useApi<RunView>(apiPath('runs', runId));
  const outputs = useApi<{ artifacts: ArtifactInfo[]; truncated: boolean }>(`/api/artifacts${query({ runId, limit: OUTPUTS_SHOWN })}`);
  return (
    <div className="pg-stage-content">
      <Loaded state={run}>
        {(view) => (
          <ol className="pg-rounds" aria-label={`Rounds of ${runId}`}>
            {roundsOf(view.run.createdAt, view.jobs).map((r) => (
              <li key={r.index}>
                <p className="small">
                  <strong>Round {r.index + 1}</strong>{' '}
                  <span className="muted">
                    {r.index === 0 ? 'submitted' : r.addedBy !== null ? <>added by <JobRefLink jobRef={`${runId}/${r.addedBy}`} label={r.addedBy} /></> : 'added from outside the run'}
                    {' at '}
                    {formatTime(r.at)} · {plural(r.jobs.length, 'job')}
                  </span>
                </p>
                <ul className="pg-plain-list pg-round-jobs">
                  {r.jobs.map((j) => (
                    <li key={j.id}>
                      <JobStatusBadge status={j.status} compact /> <Link to={runUrl(runId, j.id)}>{j.id}</Link>
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ol>
        )}
      </Loaded>
      <Loaded state={outputs}>
        {(d) =>
          d.artifacts.length === 0 ? (
            <p className="muted small">No outputs: its jobs published no artifact.</p>
          ) : (
            <>
              <h3 className="small">Outputs</h3>
              <ul className="pg-plain-list" aria-label={`Outputs of ${runId}`}>
                {d.artifacts.map((a) => (
                  <li key={a.key} className="small">
                    <a href={`/api/artifacts/download/${keyPath(a.key)}`} download>
                      <code>{a.key}</code>
                    </a>{' '}
                    <span className="muted">
                      {formatBytes(a.size)}
                      {a.jobId !== null ? <> · from {a.jobId}</> : null}
                    </span>
                  </li>
                ))}
                {d.truncated ? (
                  <li className="small">
                    <Link to={`/artifacts${query({ runId })}`}>All outputs of this stage</Link>
                  </li>
                ) : null}
              </ul>
            </>
          )
        }
      </Loaded>
    </div>
  );
}
