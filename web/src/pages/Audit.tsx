/**
 * Audit: every state-changing action from every door (CLI and SDKs over TCP, this dashboard and
 * the HTTP API, Titan's v1 clients), newest first: who, what, when, from where, and whether it was
 * refused. Administrators only; refreshed every 10 s.
 */
import { usePolling } from '../api.ts';
import type { AuditEntry } from '../types.ts';
import { type Column, DataTable } from '../components/DataTable.tsx';
import { Ago, PageHeader } from '../components/ui.tsx';
import { formatTime } from '../format.ts';
import { Loaded, RefreshButton } from './parts/list-parts.tsx';
import './pages.css';

/** Newest first, as the master answers: the order is the record. */
const COLUMNS: Column<AuditEntry>[] = [
  { id: 'when', header: 'When', title: (e) => formatTime(e.at), cell: (e) => <Ago at={e.at} /> },
  { id: 'who', header: 'Who', rowHeader: true, cell: (e) => <code>{e.who}</code> },
  { id: 'action', header: 'Action', cell: (e) => <code>{e.action}</code> },
  { id: 'target', header: 'Target', cell: (e) => (e.target === null ? <span className="muted">—</span> : <code className="pg-nowrap">{e.target}</code>) },
  {
    id: 'through',
    header: 'Through',
    cellClassName: 'muted small',
    cell: (e) => (
      <>
        {e.via} from {e.from}
      </>
    ),
  },
  { id: 'result', header: 'Result', cell: (e) => (e.ok ? 'ok' : <span style={{ color: 'var(--st-dead)' }}>refused: {e.error}</span>) },
];

export default function Audit() {
  const list = usePolling<{ entries: AuditEntry[] }>('/api/audit?limit=500', 10_000);
  const rows = list.data?.entries ?? [];
  return (
    <div className="page">
      <PageHeader title="Audit" subtitle="Who changed what, when and from where: the newest 500 actions.">
        <RefreshButton onRefresh={list.reload} />
      </PageHeader>
      <Loaded state={list}>
        {() => (
          <DataTable
            rows={rows}
            columns={COLUMNS}
            rowKey={(e) => String(e.seq)}
            className="pg-table"
            empty={
              <>
                Nothing recorded yet: submissions, cancellations, gate decisions and every other change appear here and in <code>titan audit</code>.
              </>
            }
          />
        )}
      </Loaded>
    </div>
  );
}
