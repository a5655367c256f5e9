/**
 * One job of a run: its status and what can be done to it, then its output (first: it is what
 * people open a job for), then its details and attempts, folded.
 */
import { type ReactNode, useEffect, useState } from 'react';
import { apiPath, apiPost, type GatesList, type JobDetail, type JobView, notifyGatesChanged, useApi, useClusterEvents } from '../../api.ts';
import { Ago, ErrorBox, errorText, JobStatusBadge, useNow } from '../../components/ui.tsx';
import { formatDuration, formatTime } from '../../format.ts';
import { isTerminalStatus } from '../../status.ts';
import { ACTION_ICONS, Icon, STATE_ICONS } from '../../icons.ts';
import { Link } from '../../router.tsx';
import LogViewer from './LogViewer.tsx';
import StepTimeline from './StepTimeline.tsx';

export interface JobPanelProps {
  runId: string;
  job: JobView;
  jobs: JobView[];
  onSelect: (jobId: string | null) => void;
  /** Called after an action, so the run is read again. */
  onChanged: () => void;
}

/** How often the panel of a queued or running job reads it again (why it waits, the steps it recorded). */
const WAITING_REFRESH_MS = 4000;

export default function JobPanel({ runId, job, jobs, onSelect, onChanged }: JobPanelProps) {
  const jobId = job.spec.id;
  const base = apiPath('runs', runId, 'jobs', jobId);
  const detail = useApi<JobDetail>(base, [job.status, job.attempt, job.finishedAt, job.workerId]);
  const isGate = job.spec.kind === 'approval' || job.status === 'WAITING_APPROVAL';
  const gates = useApi<GatesList>(isTerminalStatus(job.status) ? null : '/api/gates', [job.status]);
  const pendingGate = job.status === 'WAITING_APPROVAL' || (gates.data?.pending.some((g) => g.ref === job.ref) ?? false);
  const [attempt, setAttempt] = useState<number | null>(null);
  useEffect(() => setAttempt(null), [runId, jobId]);

  // Why it waits depends on the workers and on other runs' jobs too (a key they hold, the slots
  // they take): read again when workers change, and every few seconds while it waits or runs.
  useClusterEvents((...[event]) => {
    if (event === 'workers' && job.status === 'QUEUED') void detail.reload();
  });
  const reloadDetail = detail.reload;
  // Steps are recorded while the job runs, and change no status: read them again meanwhile too.
  useEffect(() => {
    if (job.status !== 'QUEUED' && job.status !== 'RUNNING') return;
    const timer = window.setInterval(() => void reloadDetail(), WAITING_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [job.status, reloadDetail]);
  const fresh = detail.data?.job.status === 'QUEUED' ? detail.data.job : job;
  const waitingReason = job.status === 'QUEUED' ? fresh.waitingReason : null;

  const dependents = jobs.filter((j) => j.spec.dependsOn.includes(jobId)).map((j) => j.spec.id);
  const gate = pendingGate ? gates.data?.pending.find((g) => g.ref === job.ref) : undefined;

  return (
    <aside className="job-panel" aria-labelledby="job-panel-title">
      <div className="job-panel-head">
        <h2 id="job-panel-title">
          <span className="visually-hidden">Job </span>
          <code>{jobId}</code>
        </h2>
        <button type="button" className="btn btn-ghost btn-small" onClick={() => onSelect(null)} aria-label="Close the job panel">
          <Icon icon={ACTION_ICONS.close} />
        </button>
      </div>
      <div className="job-panel-status">
        <JobStatusBadge status={job.status} />
        {job.attempt > 0 && (
          <span className="muted small">
            attempt {job.attempt} of {job.retryBase + job.spec.retries + 1}
          </span>
        )}
      </div>
      {waitingReason !== null && (
        <p className="job-waiting" role="status">
          <strong>Waiting: </strong>
          {waitingReason}
        </p>
      )}
      {job.error && (
        <p className="job-error" role="note">
          <strong>Error: </strong>
          {job.error}
        </p>
      )}
      {isGate && (job.spec.message || gate?.message) && (
        <blockquote className="gate-message">
          <span className="small muted">The gate asks:</span>
          <p>{gate?.message ?? job.spec.message}</p>
          {gate?.deadline && (
            <p className="small muted">
              Fails without a decision <Ago at={gate.deadline} />
            </p>
          )}
        </blockquote>
      )}
      <Actions base={base} job={job} pendingGate={pendingGate} onChanged={onChanged} />
      {job.spec.kind !== 'approval' && <LogViewer runId={runId} job={job} attempt={attempt} onAttempt={setAttempt} />}
      <Details job={job} dependents={dependents} onSelect={onSelect} />
      {detail.data && <StepTimeline steps={detail.data.steps} />}
      {job.spec.kind !== 'approval' && (
        <details className="panel-section panel-fold" open={job.attempt > 1}>
          <summary>
            <h3>Attempts{detail.data ? ` (${detail.data.attempts.length})` : ''}</h3>
          </summary>
          <ErrorBox error={detail.error} onRetry={() => void detail.reload()} />
          {detail.data && detail.data.attempts.length === 0 && <p className="muted small">None yet.</p>}
          {detail.data && detail.data.attempts.length > 0 && (
            <div className="table-wrap">
              <table className="table table-compact attempts-table">
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">Worker</th>
                    <th scope="col" className="col-started">
                      Started
                    </th>
                    <th scope="col">Took</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Output</th>
                  </tr>
                </thead>
                <tbody>
                  {[...detail.data.attempts].reverse().map((a) => (
                    <tr key={a.attempt}>
                      <td>{a.attempt}</td>
                      <td>
                        <code className="small">{a.workerId}</code>
                      </td>
                      <td className="col-started" title={formatTime(a.startedAt)}>
                        <Ago at={a.startedAt} />
                      </td>
                      <td className="nowrap" title={`Started ${formatTime(a.startedAt)}`}>{a.finishedAt ? formatDuration(a.finishedAt - a.startedAt) : <Elapsed since={a.startedAt} />}</td>
                      <td>
                        {a.outcome ?? 'running'}
                        {a.exitCode !== null && <span className="muted small"> (exit {a.exitCode})</span>}
                        {a.error && a.error !== `exit code ${a.exitCode}` && <div className="small text-bad">{a.error}</div>}
                      </td>
                      <td>
                        <button type="button" className="btn btn-small" aria-pressed={attempt === a.attempt} onClick={() => setAttempt(a.attempt)}>
                          View<span className="visually-hidden"> output of attempt {a.attempt}</span>
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </details>
      )}
    </aside>
  );
}

function Elapsed({ since }: { since: number }) {
  const now = useNow(1000);
  return <>{formatDuration(now - since)}…</>;
}

function Actions({ base, job, pendingGate, onChanged }: { base: string; job: JobView; pendingGate: boolean; onChanged: () => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [comment, setComment] = useState('');
  useEffect(() => {
    setResult(null);
    setComment('');
  }, [job.ref]);

  const act = async (name: string, path: string, body: unknown, done: string, confirmText?: string): Promise<void> => {
    if (confirmText && !window.confirm(confirmText)) return;
    setBusy(name);
    setResult(null);
    try {
      await apiPost(`${base}/${path}`, body);
      setResult({ ok: true, text: done });
      if (path === 'approve' || path === 'reject') {
        setComment('');
        notifyGatesChanged();
      }
      onChanged();
    } catch (err) {
      setResult({ ok: false, text: errorText(err) });
    } finally {
      setBusy(null);
    }
  };

  const terminal = isTerminalStatus(job.status);
  const canCancel = !terminal;
  const canRetry = job.status === 'DEAD' || job.status === 'CANCELLED';
  const canStop = job.service !== null && !terminal;
  const id = job.spec.id;
  if (!canCancel && !canRetry && !canStop && !pendingGate) {
    return result ? (
      <p className={`small ${result.ok ? 'text-good' : 'text-bad'}`} role={result.ok ? 'status' : 'alert'}>
        {result.text}
      </p>
    ) : null;
  }

  return (
    <div className="panel-section">
      {pendingGate && (
        <form
          className="gate-form"
          onSubmit={(e) => {
            e.preventDefault();
          }}
        >
          <label htmlFor="gate-comment" className="small">
            Comment (optional)
          </label>
          <textarea id="gate-comment" rows={2} value={comment} onChange={(e) => setComment(e.target.value)} maxLength={4096} />
          <div className="btn-row">
            <button type="button" className="btn btn-good" disabled={busy !== null} onClick={() => void act('approve', 'approve', comment.trim() ? { comment: comment.trim() } : {}, 'Approved.')}>
              <Icon icon={ACTION_ICONS.approve} /> Approve
            </button>
            <button
              type="button"
              className="btn btn-bad"
              disabled={busy !== null}
              onClick={() => void act('reject', 'reject', comment.trim() ? { comment: comment.trim() } : {}, 'Rejected.', `Reject the gate ${id}? Its dependents will not run.`)}
            >
              <Icon icon={ACTION_ICONS.reject} /> Reject
            </button>
          </div>
        </form>
      )}
      <div className="btn-row">
        {canRetry && (
          <button type="button" className="btn" disabled={busy !== null} onClick={() => void act('retry', 'retry', undefined, 'Retrying: the job is queued again.')}>
            <Icon icon={ACTION_ICONS.retry} /> Retry
          </button>
        )}
        {canStop && (
          <button type="button" className="btn" disabled={busy !== null} onClick={() => void act('stop', 'stop', undefined, 'Stopping the service.', `Stop the service ${id}?`)}>
            <Icon icon={ACTION_ICONS.stop} /> Stop service
          </button>
        )}
        {canCancel && (
          <button type="button" className="btn btn-bad-outline" disabled={busy !== null} onClick={() => void act('cancel', 'cancel', undefined, 'Cancelled.', `Cancel the job ${id}? Jobs that depend on it will be skipped.`)}>
            <Icon icon={ACTION_ICONS.cancel} /> Cancel job
          </button>
        )}
      </div>
      {busy && (
        <p className="small muted" role="status">
          Working…
        </p>
      )}
      {result && (
        <p className={`small ${result.ok ? 'text-good' : 'text-bad'}`} role={result.ok ? 'status' : 'alert'}>
          {result.text}
        </p>
      )}
    </div>
  );
}

function Details({ job, dependents, onSelect }: { job: JobView; dependents: string[]; onSelect: (id: string) => void }) {
  const s = job.spec;
  const now = useNow(1000);
  const rows: [string, ReactNode][] = [];
  rows.push(['Kind', s.kind]);
  if (s.kind === 'approval') return <GateDetails job={job} dependents={dependents} onSelect={onSelect} />;
  if (s.script) rows.push(['Script', <code key="s">{s.script.name}</code>]);
  if (s.archive)
    rows.push([
      'Archive',
      <code key="a">
        {s.archive.name}/{s.archive.entry}
      </code>,
    ]);
  if (s.args.length > 0) rows.push(['Arguments', <code key="args" className="wrap">{s.args.map(quoteArg).join(' ')}</code>]);
  rows.push(['Needs', <code key="r">{s.requirement}</code>]);
  rows.push(['Worker', job.workerId ? <code key="w">{job.workerId}</code> : <span className="muted">—</span>]);
  if (job.exitCode !== null) rows.push(['Exit code', String(job.exitCode)]);
  rows.push(['Created', <Ago key="c" at={job.createdAt} />]);
  if (job.notBefore && !isTerminalStatus(job.status)) rows.push([job.status === 'FAILED' ? 'Retry at' : 'Not before', <Ago key="nb" at={job.notBefore} />]);
  if (job.startedAt) {
    rows.push(['Started', <Ago key="st" at={job.startedAt} />]);
    rows.push(['Waited', formatDuration(job.startedAt - job.createdAt)]);
  }
  if (job.finishedAt) rows.push(['Finished', <Ago key="f" at={job.finishedAt} />]);
  if (job.startedAt && job.status === 'RUNNING') rows.push(['Running for', `${formatDuration(now - job.startedAt)}…`]);
  else if (job.startedAt && job.finishedAt && isTerminalStatus(job.status)) rows.push(['Ran for', formatDuration(job.finishedAt - job.startedAt)]);
  rows.push(['Priority', String(s.priority)]);
  rows.push(['Retries', String(s.retries)]);
  if (s.timeoutMs) rows.push(['Timeout', formatDuration(s.timeoutMs)]);
  if (s.delayMs) rows.push(['Delay', formatDuration(s.delayMs)]);
  if (s.affinity !== 'none') rows.push(['Affinity', s.affinity]);
  if (s.concurrency)
    rows.push([
      'Concurrency',
      <span key="cc">
        key <KeyLink flowKey={s.concurrency.key} />
        {s.concurrency.limit !== undefined ? `, at most ${s.concurrency.limit} at once` : ''}
      </span>,
    ]);
  if (s.rateLimit)
    rows.push([
      'Rate limit',
      <span key="rl">
        key <KeyLink flowKey={s.rateLimit.key} />, {s.rateLimit.limit} per {s.rateLimit.per}
        {s.rateLimit.burst !== undefined ? ` (burst ${s.rateLimit.burst})` : ''}
      </span>,
    ]);
  if (job.service) {
    const sv = job.service;
    rows.push(['Port', sv.port === null ? '—' : String(sv.port)]);
    rows.push(['Up since', sv.readyAt ? <Ago key="up" at={sv.readyAt} /> : <span className="muted">not up</span>]);
    rows.push(['Restarts', `${sv.restarts}${sv.crashes > 0 ? ` (${sv.crashes} crash${sv.crashes === 1 ? '' : 'es'} in a row)` : ''}`]);
    if (sv.pid !== null) rows.push(['PID', String(sv.pid)]);
  }
  if (s.service) rows.push(['Readiness', <code key="rd">{String(s.service.readiness)}</code>]);

  if (s.secrets && s.secrets.length > 0) rows.push(['Secrets', <SecretNames key="sec" names={s.secrets} />]);
  const envKeys = Object.keys(s.env);
  return (
    <details className="panel-section panel-fold">
      <summary>
        <h3>Details</h3>
      </summary>
      <DetailRows
        rows={[...rows, ['Depends on', <JobButtons key="up" ids={s.dependsOn} onSelect={onSelect} />], ['Needed by', <JobButtons key="down" ids={dependents} onSelect={onSelect} />]]}
      />
      {envKeys.length > 0 && (
        <details className="env">
          <summary>
            Environment ({envKeys.length} variable{envKeys.length === 1 ? '' : 's'})
          </summary>
          <dl className="details">
            {envKeys.map((k) => (
              <div key={k} className="details-row">
                <dt>
                  <code>{k}</code>
                </dt>
                <dd>
                  <code className="wrap">{s.env[k]}</code>
                </dd>
              </div>
            ))}
          </dl>
        </details>
      )}
    </details>
  );
}

/** An approval gate: when it opened, how long it waits, and (once decided) who decided what. */
function GateDetails({ job, dependents, onSelect }: { job: JobView; dependents: string[]; onSelect: (id: string) => void }) {
  const decided = isTerminalStatus(job.status) && job.status !== 'SKIPPED';
  const history = useApi<GatesList>(decided ? '/api/gates?history=1000' : null, [job.status]);
  const decision = history.data?.history.find((d) => d.runId === job.runId && d.jobId === job.spec.id);
  const now = useNow(1000);
  const rows: [string, ReactNode][] = [['Kind', 'approval gate']];
  if (job.startedAt) rows.push(['Opened', <Ago key="o" at={job.startedAt} />]);
  if (job.spec.timeoutMs) rows.push(['Fails after', formatDuration(job.spec.timeoutMs)]);
  if (job.startedAt) rows.push([job.finishedAt ? 'Waited' : 'Waiting for', formatDuration((job.finishedAt ?? now) - job.startedAt)]);
  if (decision) {
    rows.push(['Decision', <DecisionText key="d" approved={decision.approved} timedOut={decision.reason === 'timeout'} />]);
    rows.push(['By', decision.by]);
    rows.push(['When', <Ago key="w" at={decision.at} />]);
    if (decision.comment) rows.push(['Comment', <span key="c" className="pre-wrap">{decision.comment}</span>]);
  } else if (job.finishedAt) {
    rows.push(['Decided', <Ago key="d" at={job.finishedAt} />]);
  }
  return (
    <section className="panel-section" aria-labelledby="details-title">
      <h3 id="details-title">Details</h3>
      <DetailRows
        rows={[...rows, ['Waits for', <JobButtons key="up" ids={job.spec.dependsOn} onSelect={onSelect} />], ['Releases', <JobButtons key="down" ids={dependents} onSelect={onSelect} />]]}
      />
    </section>
  );
}

/** A details list of label → value rows. */
function DetailRows({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="details">
      {rows.map(([k, v]) => (
        <div key={k} className="details-row">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Jobs as buttons that open them in the panel, or "nothing". */
function JobButtons({ ids, onSelect }: { ids: readonly string[]; onSelect: (id: string) => void }) {
  if (ids.length === 0) return <span className="muted">nothing</span>;
  return (
    <ul className="chips">
      {ids.map((id) => (
        <li key={id}>
          <button type="button" className="chip chip-button" onClick={() => onSelect(id)}>
            {id}
          </button>
        </li>
      ))}
    </ul>
  );
}

/** The secrets a job declared, by name only: values never leave the master but as the job's environment. */
function SecretNames({ names }: { names: readonly string[] }) {
  return (
    <ul className="chips" aria-label="Secrets the job receives (names only)">
      {names.map((n) => (
        <li key={n}>
          <code className="chip">{n}</code>
        </li>
      ))}
    </ul>
  );
}

/** A flow-control key, linked to its row on the Queue page (where a cluster limit may override the job's). */
function KeyLink({ flowKey }: { flowKey: string }) {
  return (
    <Link to={`/queue?key=${encodeURIComponent(flowKey)}`}>
      <code>{flowKey}</code>
    </Link>
  );
}

function quoteArg(a: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

function DecisionText({ approved, timedOut }: { approved: boolean; timedOut: boolean }) {
  const [icon, text] = approved ? [STATE_ICONS.gateApproved, 'approved'] : timedOut ? [STATE_ICONS.gateTimedOut, 'timed out'] : [STATE_ICONS.gateRejected, 'rejected'];
  return (
    <>
      <Icon icon={icon} /> {text}
    </>
  );
}
