/**
 * Queue: every flow-control key the master knows (a cluster limit, jobs holding it, jobs waiting
 * for it), with the jobs that hold each one and when a rate-limited key's next start is due. An
 * admin sets or removes a key's cluster limit here. Live: read again on `jobs` events (a holder
 * ends, a waiter starts) and every 3 s (jobs park on a key without an event; tokens come due).
 */
import { useId, useState } from 'react';
import { apiDelete, apiPath, type FlowKeyView, usePolling, useSession } from '../../api.ts';
import { type Column, DataTable } from '../../components/DataTable.tsx';
import { JobRefLink } from '../../components/links.tsx';
import { Ago, Meter, PageHeader } from '../../components/ui.tsx';
import { useSearchParam } from '../../router.tsx';
import { Outcome, plural, useLiveReload } from '../parts/common.tsx';
import { ConfirmDialog } from '../parts/confirm.tsx';
import { useConfirmation } from '../parts/confirmation.ts';
import { Loaded, RefreshButton } from '../parts/list-parts.tsx';
import LimitDialog from './LimitDialog.tsx';
import { describeLimit, shownKeys } from './limits.ts';
import '../pages.css';

/** Holders listed by name in a row; the rest are counted. */
const HOLDERS_SHOWN = 5;

/** The key being edited: an existing one, or null for a key typed in the form. */
type Editing = { key: FlowKeyView | null };

export default function Queue() {
  const list = usePolling<{ keys: FlowKeyView[] }>('/api/limits', 3000);
  useLiveReload(['jobs'], list.reload, 1000);
  const admin = useSession()?.permissions?.includes('admin') ?? false;
  const [filter, setFilter] = useSearchParam('key');
  const [editing, setEditing] = useState<Editing | null>(null);
  // Removing a limit is confirmed; the outcome line under the header also reports a limit set.
  const removing = useConfirmation<FlowKeyView>(list.reload);
  const filterId = useId();

  const all = list.data?.keys ?? [];
  const rows = shownKeys(all, filter ?? '');
  const running = all.reduce((n, k) => n + k.holders.length, 0);
  const waiting = all.reduce((n, k) => n + k.waiters, 0);

  const columns: Column<FlowKeyView>[] = [
    { id: 'key', header: 'Key', rowHeader: true, sortValue: (k) => k.key, cell: (k) => <code className="pg-flow-key">{k.key}</code> },
    {
      id: 'limit',
      header: 'Cluster limit',
      sortValue: (k) => (k.limit ? describeLimit(k.limit) : null),
      cell: (k) => (k.limit ? describeLimit(k.limit) : <span className="muted">none: the jobs' own</span>),
    },
    {
      id: 'running',
      header: 'Running',
      className: 'pg-num',
      sortValue: (k) => k.holders.length,
      cell: (k) =>
        k.limit?.concurrency !== undefined ? (
          <div className="cell-meter">
            <Meter value={k.holders.length} max={k.limit.concurrency} label={`${k.key}: ${k.holders.length} of ${k.limit.concurrency} running`} warnAt={1} />
          </div>
        ) : (
          k.holders.length
        ),
    },
    {
      id: 'holders',
      header: 'Held by',
      cell: (k) =>
        k.holders.length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <ul className="pg-plain-list" aria-label={`Jobs holding ${k.key}`}>
            {k.holders.slice(0, HOLDERS_SHOWN).map((ref) => (
              <li key={ref}>
                <JobRefLink jobRef={ref} />
              </li>
            ))}
            {k.holders.length > HOLDERS_SHOWN ? <li className="muted">and {k.holders.length - HOLDERS_SHOWN} more</li> : null}
          </ul>
        ),
    },
    { id: 'waiting', header: 'Waiting', className: 'pg-num', sortValue: (k) => k.waiters, cell: (k) => (k.waiters > 0 ? <strong>{k.waiters}</strong> : 0) },
    { id: 'next', header: 'Next start', sortValue: (k) => k.nextTokenAt, cell: (k) => (k.nextTokenAt !== null ? <Ago at={k.nextTokenAt} /> : <span className="muted">—</span>) },
  ];
  if (admin) {
    columns.push({
      id: 'actions',
      header: 'Actions',
      cell: (k) => (
        <div className="pg-actions">
          <button type="button" className="btn btn-small" onClick={() => setEditing({ key: k })} aria-label={`${k.limit ? 'Change' : 'Set'} the limit on ${k.key}`}>
            {k.limit ? 'Change limit' : 'Set limit'}
          </button>
          {k.limit ? (
            <button type="button" className="btn btn-small btn-bad-outline" onClick={() => removing.ask(k)} aria-label={`Remove the limit on ${k.key}`}>
              Remove limit
            </button>
          ) : null}
        </div>
      ),
    });
  }

  const remove = async (k: FlowKeyView): Promise<string> => {
    const { removed } = await apiDelete<{ removed: boolean }>(apiPath('limits', k.key));
    return removed ? `Removed the limit on ${k.key}: its jobs follow their own limits again.` : `${k.key} had no cluster limit any more.`;
  };

  return (
    <div className="page">
      <PageHeader
        title="Queue"
        subtitle={list.data ? `${plural(all.length, 'flow-control key')}: ${running} running while holding one, ${waiting} waiting for one.` : 'Concurrency keys and rate limits: who holds them, who waits.'}
      >
        {admin ? (
          <button type="button" className="btn btn-primary" onClick={() => setEditing({ key: null })}>
            Set a limit…
          </button>
        ) : null}
        <RefreshButton onRefresh={list.reload} />
      </PageHeader>
      <Outcome done={removing.done} onDismiss={() => removing.setDone(null)} />
      <div className="filters">
        <div className="field field-inline">
          <label htmlFor={filterId}>Key</label>
          <input id={filterId} type="search" value={filter ?? ''} onChange={(e) => setFilter(e.target.value)} placeholder="any" />
        </div>
        {list.data && rows.length !== all.length ? <span className="muted small">{`${rows.length} of ${all.length} keys`}</span> : null}
      </div>
      <Loaded state={list}>
        {() => (
          <DataTable
            rows={rows}
            columns={columns}
            rowKey={(k) => k.key}
            className="pg-table pg-queue"
            caption="Flow-control keys"
            empty={
              all.length === 0 ? (
                <>
                  No key has a cluster limit, a job holding it or a job waiting for it. A job names a key with <code>concurrency: {'{key: openai, limit: 4}'}</code> or{' '}
                  <code>rate_limit</code> in its pipeline; <code>titan limits set openai --concurrency 4</code> limits a key for the whole cluster.
                </>
              ) : (
                'No key matches.'
              )
            }
          />
        )}
      </Loaded>
      {editing ? (
        <LimitDialog
          keyName={editing.key?.key ?? null}
          current={editing.key?.limit ?? null}
          onSaved={(done) => {
            setEditing(null);
            removing.setDone(done);
            void list.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      {removing.pending ? (
        <ConfirmDialog
          title={`Remove the limit on ${removing.pending.key}?`}
          confirmLabel="Remove limit"
          danger
          busy={removing.busy}
          error={removing.error}
          onConfirm={() => void removing.confirm(remove)}
          onCancel={removing.cancel}
        >
          <p>
            The cluster's limit ({removing.pending.limit ? describeLimit(removing.pending.limit) : 'none'}) no longer applies: jobs holding <code>{removing.pending.key}</code> follow the limits they
            declare, and without one nothing holds them back.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
