/**
 * The approvals inbox: every gate waiting for a decision (its message, how long it has waited and
 * when it times out) with approve and reject and an optional comment, then the latest decisions
 * (who, when, the comment; timeouts too). Refreshed by `jobs` events and every 15 s (Titan-style
 * gates live in the data bus, which sends no events).
 */
import { useId, useState } from 'react';
import { apiPost, notifyGatesChanged, usePolling, type GateDecision, type GateDecisionResult, type GatesList, type GateView } from '../api.ts';
import { type Column, DataTable } from '../components/DataTable.tsx';
import { runUrl } from '../components/links.tsx';
import { Ago, Empty, ErrorBox, FormError, Loading, PageHeader, errorText, useNow } from '../components/ui.tsx';
import { ACTION_ICONS, Icon, STATE_ICONS } from '../icons.ts';
import { Link } from '../router.tsx';
import { Outcome, StateBadge, useLiveReload } from './parts/common.tsx';
import { ConfirmDialog } from './parts/confirm.tsx';
import './pages.css';

const HISTORY = 50;
/** A deadline this close is highlighted. */
const SOON_MS = 10 * 60_000;

export default function Approvals() {
  const gates = usePolling<GatesList>(`/api/gates?history=${HISTORY}`, 15_000);
  const { reload } = gates;
  useLiveReload(['jobs'], reload);
  const [outcome, setOutcome] = useState<string | null>(null);

  const pending = gates.data?.pending ?? [];
  const history = gates.data?.history ?? [];

  const decided = (result: GateDecisionResult, comment: string): void => {
    setOutcome(`${result.approved ? 'Approved' : 'Rejected'} ${result.ref}${comment ? ` with the comment “${comment}”` : ''}.`);
    notifyGatesChanged();
    void reload();
  };

  return (
    <div className="page">
      <PageHeader title="Approvals" subtitle="Gates waiting for a person's decision, and the decisions made so far.">
        <button type="button" className="btn" onClick={() => void reload()}>
          Refresh
        </button>
      </PageHeader>
      <ErrorBox error={gates.error} onRetry={() => void reload()} />
      <Outcome done={outcome} onDismiss={() => setOutcome(null)} />

      <section className="section" aria-labelledby="ap-pending">
        <h2 id="ap-pending">
          Waiting{gates.data ? <span className="pg-count">{pending.length}</span> : null}
        </h2>
        {!gates.data ? (
          !gates.error && <Loading />
        ) : pending.length === 0 ? (
          <Empty>
            No gate is waiting for a decision. A pipeline job with <code>type: approval</code> opens one; <code>titan gates</code> lists them too.
          </Empty>
        ) : (
          <ul className="pg-gates" aria-label="Waiting gates">
            {pending.map((g) => (
              <GateCard key={g.ref} gate={g} onDecided={decided} />
            ))}
          </ul>
        )}
      </section>

      <section className="section" aria-labelledby="ap-history">
        <h2 id="ap-history">
          Decisions <span className="muted small">(the latest {HISTORY})</span>
        </h2>
        {gates.data ? <DataTable rows={history} columns={HISTORY_COLUMNS} rowKey={(d) => `${d.runId}/${d.jobId}/${d.at}`} className="pg-table" initialSort={{ id: 'at', dir: 'desc' }} empty={
              <>
                No gate has been decided yet (<code>titan approve GATE</code> and <code>titan reject GATE</code> decide from the command line).
              </>
            }
          /> : null}
      </section>
    </div>
  );
}

function GateCard({ gate, onDecided }: { gate: GateView; onDecided: (r: GateDecisionResult, comment: string) => void }) {
  const now = useNow(5_000);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState<'approve' | 'reject' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmReject, setConfirmReject] = useState(false);
  const commentId = useId();
  const titleId = useId();
  const titan = gate.style === 'titan' || gate.runId === '';

  const decide = async (action: 'approve' | 'reject'): Promise<void> => {
    setBusy(action);
    setError(null);
    try {
      const text = comment.trim();
      const result = await apiPost<GateDecisionResult>(`/api/gates/${action}`, { ref: gate.ref, ...(text && { comment: text }) });
      setComment('');
      setConfirmReject(false);
      onDecided(result, text);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  };

  const soon = gate.deadline !== null && gate.deadline - now < SOON_MS;
  return (
    <li className="card pg-gate" aria-labelledby={titleId}>
      <div className="card-head">
        <h3 id={titleId} className="card-title">
          {titan ? (
            <code>{gate.jobId}</code>
          ) : (
            <>
              <Link to={runUrl(gate.runId)}>{gate.runName}</Link>
              <span className="pg-sep" aria-hidden="true">
                {' / '}
              </span>
              <Link to={runUrl(gate.runId, gate.jobId)}>
                <code>{gate.jobId}</code>
              </Link>
            </>
          )}
        </h3>
        <StateBadge tone="approval" icon={STATE_ICONS.gateWaiting} title={titan ? 'a job running Titan’s key-polling gate script' : 'an approval job the master holds'}>
          {titan ? 'Titan gate' : 'Awaiting approval'}
        </StateBadge>
      </div>
      {gate.message ? (
        <blockquote className="gate-message">
          <span className="small muted">The gate asks:</span>
          <p>{gate.message}</p>
        </blockquote>
      ) : (
        <p className="muted small">The gate has no message.</p>
      )}
      <dl className="pg-facts">
        <div>
          <dt>Waiting since</dt>
          <dd>{gate.openedAt > 0 ? <Ago at={gate.openedAt} now={now} /> : <span className="muted">unknown</span>}</dd>
        </div>
        <div>
          <dt>Times out</dt>
          <dd className={soon ? 'text-warn' : undefined}>{gate.deadline === null ? 'never' : <Ago at={gate.deadline} now={now} />}</dd>
        </div>
        {!titan ? (
          <div>
            <dt>Run</dt>
            <dd>
              <code>{gate.runId}</code>
            </dd>
          </div>
        ) : null}
      </dl>
      {titan ? (
        <p className="pg-note small">A Titan-style gate: a job polling the data bus for its decision, released when you decide here.</p>
      ) : null}
      <form
        className="pg-decide"
        onSubmit={(e) => {
          e.preventDefault();
          void decide('approve');
        }}
      >
        <label htmlFor={commentId}>
          Comment <span className="muted">(optional, recorded with the decision)</span>
        </label>
        <textarea id={commentId} rows={2} maxLength={4096} value={comment} onChange={(e) => setComment(e.target.value)} disabled={busy !== null} />
        <div className="btn-row">
          <button type="submit" className="btn btn-good" disabled={busy !== null}>
            <Icon icon={ACTION_ICONS.approve} /> {busy === 'approve' ? 'Approving…' : 'Approve'}
          </button>
          <button type="button" className="btn btn-bad" disabled={busy !== null} onClick={() => setConfirmReject(true)}>
            <Icon icon={ACTION_ICONS.reject} /> {busy === 'reject' ? 'Rejecting…' : 'Reject…'}
          </button>
        </div>
        <FormError error={error} />
      </form>
      {confirmReject ? (
        <ConfirmDialog
          title={`Reject the gate ${gate.jobId}?`}
          confirmLabel="Reject"
          danger
          busy={busy !== null}
          error={error}
          onConfirm={() => void decide('reject')}
          onCancel={() => setConfirmReject(false)}
        >
          <p>
            The gate fails and the jobs of “{gate.runName}” that depend on it do not run.
            {comment.trim() ? ' Your comment is recorded with the decision.' : ' You can cancel and add a comment first.'}
          </p>
        </ConfirmDialog>
      ) : null}
    </li>
  );
}

/** The decided gates, newest first. */
const HISTORY_COLUMNS: Column<GateDecision>[] = [
  {
    id: 'decision',
    header: 'Decision',
    sortValue: (d) => (d.reason === 'timeout' ? 'timeout' : d.approved ? 'approved' : 'rejected'),
    cell: (d) =>
      d.reason === 'timeout' ? (
        <StateBadge tone="dead" icon={STATE_ICONS.gateTimedOut} title="nobody decided before the gate's deadline">
          Timed out
        </StateBadge>
      ) : d.approved ? (
        <StateBadge tone="completed" icon={STATE_ICONS.gateApproved}>
          Approved
        </StateBadge>
      ) : (
        <StateBadge tone="dead" icon={STATE_ICONS.gateRejected}>
          Rejected
        </StateBadge>
      ),
  },
  {
    id: 'gate',
    header: 'Gate',
    sortValue: (d) => `${d.runId}/${d.jobId}`,
    cell: (d) =>
      d.runId ? (
        <Link to={runUrl(d.runId, d.jobId)}>
          <code>
            {d.runId}/{d.jobId}
          </code>
        </Link>
      ) : (
        <code>{d.jobId}</code>
      ),
  },
  { id: 'by', header: 'By', sortValue: (d) => (d.reason === 'timeout' ? '' : d.by), cell: (d) => (d.reason === 'timeout' ? <span className="muted">the deadline</span> : d.by) },
  { id: 'at', header: 'When', sortValue: (d) => d.at, cell: (d) => <Ago at={d.at} /> },
  { id: 'comment', header: 'Comment', cellClassName: 'pg-wrap', cell: (d) => d.comment ?? <span className="muted">—</span> },
];
