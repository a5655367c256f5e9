/**
 * Access: who may do what, and what jobs may know. Secrets (names and dates: a value goes in and
 * never comes out), named tokens (shown once, at creation) and dashboard users, each with the
 * actions an administrator takes on them. The audit log records each action.
 */
import { useState } from 'react';
import { apiDelete, apiPath, usePolling } from '../../api.ts';
import { type Column, DataTable } from '../../components/DataTable.tsx';
import { Ago, PageHeader } from '../../components/ui.tsx';
import { formatTime } from '../../format.ts';
import type { IdentityInfo } from '../../../../src/protocol/access-methods.ts';
import type { SecretInfo } from '../../../../src/protocol/secret-methods.ts';
import { Chips, Outcome } from '../parts/common.tsx';
import { ConfirmDialog } from '../parts/confirm.tsx';
import { useConfirmation } from '../parts/confirmation.ts';
import { Loaded, RefreshButton } from '../parts/list-parts.tsx';
import SecretDialog from './SecretDialog.tsx';
import TokenDialog from './TokenDialog.tsx';
import '../pages.css';

type Removal = { kind: 'secret' | 'token' | 'user'; name: string };

const REMOVAL: Record<Removal['kind'], { path: string; verb: string; effect: string }> = {
  secret: { path: 'secrets', verb: 'Remove', effect: 'Jobs that declare it are refused at dispatch (SECRET_MISSING) until it is set again.' },
  token: { path: 'tokens', verb: 'Revoke', effect: 'Every request with it is refused from now on, and the sessions signed in with it end.' },
  user: { path: 'users', verb: 'Remove', effect: 'They can no longer sign in, and their sessions end.' },
};

const when = (at: number | null) => (at === null ? <span className="muted">never</span> : <span title={formatTime(at)}>{at > Date.now() ? formatTime(at) : <Ago at={at} />}</span>);

export default function Access() {
  const secrets = usePolling<{ secrets: SecretInfo[] }>('/api/secrets', 10_000);
  const tokens = usePolling<{ tokens: IdentityInfo[] }>('/api/tokens', 10_000);
  const users = usePolling<{ users: IdentityInfo[] }>('/api/users', 10_000);
  const reloadAll = (): void => {
    void secrets.reload();
    void tokens.reload();
    void users.reload();
  };
  const removing = useConfirmation<Removal>(reloadAll);
  const [editingSecret, setEditingSecret] = useState<{ name: string | null } | null>(null);
  const [creatingToken, setCreatingToken] = useState(false);

  const removeButton = (r: Removal) => (
    <button type="button" className="btn btn-small btn-bad-outline" onClick={() => removing.ask(r)} aria-label={`${REMOVAL[r.kind].verb} the ${r.kind} ${r.name}`}>
      {REMOVAL[r.kind].verb}
    </button>
  );

  const secretColumns: Column<SecretInfo>[] = [
    { id: 'name', header: 'Name', rowHeader: true, sortValue: (s) => s.name, cell: (s) => <code>{s.name}</code> },
    { id: 'created', header: 'Created', sortValue: (s) => s.createdAt, cell: (s) => when(s.createdAt) },
    { id: 'updated', header: 'Value set', sortValue: (s) => s.updatedAt, cell: (s) => when(s.updatedAt) },
    {
      id: 'actions',
      header: 'Actions',
      cell: (s) => (
        <div className="pg-actions">
          <button type="button" className="btn btn-small" onClick={() => setEditingSecret({ name: s.name })} aria-label={`Replace the value of ${s.name}`}>
            Replace value
          </button>
          {removeButton({ kind: 'secret', name: s.name })}
        </div>
      ),
    },
  ];
  const identityColumns = (kind: 'token' | 'user'): Column<IdentityInfo>[] => [
    { id: 'name', header: 'Name', rowHeader: true, sortValue: (i) => i.name, cell: (i) => <code>{i.name}</code> },
    { id: 'roles', header: 'Roles', cell: (i) => <Chips label={`Roles of ${i.name}`} items={i.roles} /> },
    { id: 'by', header: 'Created by', cell: (i) => <code>{i.createdBy}</code> },
    { id: 'created', header: 'Created', sortValue: (i) => i.createdAt, cell: (i) => when(i.createdAt) },
    ...(kind === 'token' ? [{ id: 'expires', header: 'Expires', sortValue: (i: IdentityInfo) => i.expiresAt ?? Infinity, cell: (i: IdentityInfo) => when(i.expiresAt) }] : []),
    { id: 'actions', header: 'Actions', cell: (i) => <div className="pg-actions">{removeButton({ kind, name: i.name })}</div> },
  ];

  const remove = async (r: Removal): Promise<string> => {
    await apiDelete(apiPath(REMOVAL[r.kind].path, r.name));
    return `${r.kind === 'token' ? 'Revoked' : 'Removed'} the ${r.kind} ${r.name}.`;
  };

  return (
    <div className="page">
      <PageHeader title="Access" subtitle="Secrets jobs receive, tokens programs sign in with, and the people who use this dashboard.">
        <RefreshButton onRefresh={reloadAll} />
      </PageHeader>
      <Outcome done={removing.done} onDismiss={() => removing.setDone(null)} />

      <section aria-labelledby="access-secrets">
        <div className="pg-section-head">
          <h2 id="access-secrets">Secrets</h2>
          <button type="button" className="btn btn-primary" onClick={() => setEditingSecret({ name: null })}>
            Add a secret…
          </button>
        </div>
        <Loaded state={secrets}>
          {(d) => (
            <DataTable
              rows={d.secrets}
              columns={secretColumns}
              rowKey={(s) => s.name}
              className="pg-table"
              caption="Secrets"
              empty={
                <>
                  No secret yet. <code>titan secrets set NAME</code> reads a value from standard input; a job lists the ones it needs with <code>secrets: [NAME]</code>.
                </>
              }
            />
          )}
        </Loaded>
      </section>

      <section aria-labelledby="access-tokens">
        <div className="pg-section-head">
          <h2 id="access-tokens">Named tokens</h2>
          <button type="button" className="btn btn-primary" onClick={() => setCreatingToken(true)}>
            Create a token…
          </button>
        </div>
        <Loaded state={tokens}>
          {(d) => (
            <DataTable
              rows={d.tokens}
              columns={identityColumns('token')}
              rowKey={(i) => i.name}
              className="pg-table"
              caption="Named tokens"
              empty={
                <>
                  No named token. <code>titan token create NAME --role read</code> makes one for a person or a program.
                </>
              }
            />
          )}
        </Loaded>
      </section>

      <section aria-labelledby="access-users">
        <div className="pg-section-head">
          <h2 id="access-users">Dashboard users</h2>
        </div>
        <Loaded state={users}>
          {(d) => (
            <DataTable
              rows={d.users}
              columns={identityColumns('user')}
              rowKey={(i) => i.name}
              className="pg-table"
              caption="Dashboard users"
              empty={
                <>
                  No dashboard user. <code>titan user add NAME --role operator --password-file -</code> adds one who signs in with a password.
                </>
              }
            />
          )}
        </Loaded>
      </section>

      {editingSecret ? (
        <SecretDialog
          name={editingSecret.name}
          onSaved={(done) => {
            setEditingSecret(null);
            removing.setDone(done);
            void secrets.reload();
          }}
          onCancel={() => setEditingSecret(null)}
        />
      ) : null}
      {creatingToken ? (
        <TokenDialog
          onDone={(done) => {
            setCreatingToken(false);
            removing.setDone(done);
            void tokens.reload();
          }}
          onCancel={() => setCreatingToken(false)}
        />
      ) : null}
      {removing.pending ? (
        <ConfirmDialog
          title={`${REMOVAL[removing.pending.kind].verb} the ${removing.pending.kind} ${removing.pending.name}?`}
          confirmLabel={REMOVAL[removing.pending.kind].verb}
          danger
          busy={removing.busy}
          error={removing.error}
          onConfirm={() => void removing.confirm(remove)}
          onCancel={removing.cancel}
        >
          <p>{REMOVAL[removing.pending.kind].effect}</p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
