/**
 * Audit: every state-changing action from every door (CLI and SDKs over TCP, this dashboard and
 * the HTTP API, Titan's v1 clients), newest first: who, what, when, from where, and whether it was
 * refused. Administrators only; refreshed every 10 s.
 */
import { usePolling } from '../api.ts';
import type { AuditEntry } from '../types.ts';
import { Ago, Empty, ErrorBox, Loading, PageHeader } from '../components/ui.tsx';
import { formatTime } from '../format.ts';
import './pages.css';

export default function Audit() {
  const list = usePolling<{ entries: AuditEntry[] }>('/api/audit?limit=500', 10_000);
  const rows = list.data?.entries ?? [];
  return (
    <div className="page">
      <PageHeader title="Audit" subtitle="Who changed what, when and from where: the newest 500 actions.">
        <button type="button" className="btn" onClick={() => void list.reload()}>
          Refresh
        </button>
      </PageHeader>
      <ErrorBox error={list.error} onRetry={() => void list.reload()} />
      {!list.data ? (
        !list.error && <Loading />
      ) : rows.length === 0 ? (
        <Empty>Nothing recorded yet: submissions, cancellations, gate decisions and every other change appear here.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table pg-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Through</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr key={e.seq}>
                  <td title={formatTime(e.at)}>
                    <Ago at={e.at} />
                  </td>
                  <th scope="row">
                    <code>{e.who}</code>
                  </th>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>{e.target === null ? <span className="muted">—</span> : <code className="pg-nowrap">{e.target}</code>}</td>
                  <td className="muted small">
                    {e.via} from {e.from}
                  </td>
                  <td>{e.ok ? 'ok' : <span style={{ color: "var(--st-dead)" }}>refused: {e.error}</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
