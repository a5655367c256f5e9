/**
 * Triggers: each pipeline an HTTP request to `/hooks/NAME` starts, with the URL to give the
 * sender, how deliveries prove who sent them (a signature keyed by a named secret, or a bearer
 * token), the limits, and the last deliveries (accepted with their run, or refused with the
 * reason). Created and removed with `titan triggers`; refreshed on `run` events and every 30 s.
 */
import { sizeText, usePolling, type DeliveryRecord, type TriggerView } from '../api.ts';
import { type Column, DataTable } from '../components/DataTable.tsx';
import { RunLink } from '../components/links.tsx';
import { Ago, PageHeader } from '../components/ui.tsx';
import { STATE_ICONS } from '../icons.ts';
import { StateBadge, plural, useLiveReload } from './parts/common.tsx';
import { Loaded, RefreshButton } from './parts/list-parts.tsx';
import './pages.css';

function Delivery({ d }: { d: DeliveryRecord }) {
  return (
    <li className="trigger-delivery">
      {d.outcome === 'accepted' ? (
        <StateBadge tone="completed" icon={STATE_ICONS.deliveryAccepted}>
          Accepted
        </StateBadge>
      ) : (
        <StateBadge tone="failed" icon={STATE_ICONS.deliveryRefused}>
          Refused
        </StateBadge>
      )}{' '}
      <Ago at={d.receivedAt} /> {d.runId ? <RunLink runId={d.runId} /> : null}
      {d.reason ? <div className="muted small">{d.reason}</div> : null}
    </li>
  );
}

export default function Triggers() {
  const list = usePolling<{ triggers: TriggerView[] }>('/api/triggers', 30_000);
  useLiveReload(['run'], list.reload);
  const origin = window.location.origin;
  const rows = list.data?.triggers ?? [];
  const columns: Column<TriggerView>[] = [
    {
      id: 'name',
      header: 'Trigger',
      rowHeader: true,
      sortValue: (t) => t.name,
      cell: (t) => (
        <>
          <code className="pg-nowrap">{t.name}</code>
          <div className="muted small">
            {t.pipeline} · {plural(t.jobs, 'job')}
          </div>
        </>
      ),
    },
    { id: 'url', header: 'URL', cellClassName: 'pg-wrap', cell: (t) => <code className="trigger-url">POST {`${origin}${t.path}`}</code> },
    {
      id: 'auth',
      header: 'Authentication',
      sortValue: (t) => t.auth.kind,
      cell: (t) =>
        t.auth.kind === 'hmac' ? (
          <>
            Signature <div className="muted small">HMAC-SHA256 with the secret <code>{t.auth.secret}</code></div>
          </>
        ) : (
          <>
            Bearer token <div className="muted small">shown once, when it was created</div>
          </>
        ),
    },
    { id: 'limits', header: 'Limits', cell: (t) => `${t.limits.ratePerMinute}/minute · ${sizeText(t.limits.maxBodyBytes)}` },
    {
      id: 'deliveries',
      header: 'Last deliveries',
      cellClassName: 'pg-wrap',
      sortValue: (t) => t.deliveries[0]?.receivedAt ?? 0,
      cell: (t) =>
        t.deliveries.length === 0 ? (
          <span className="muted">none yet</span>
        ) : (
          <>
            <ul className="trigger-deliveries">
              {t.deliveries.map((d) => (
                <Delivery key={d.id} d={d} />
              ))}
            </ul>
            {t.unrecorded > 0 ? <div className="muted small">{plural(t.unrecorded, 'more refusal')} counted, not recorded one by one</div> : null}
          </>
        ),
    },
  ];

  return (
    <div className="page">
      <PageHeader title="Triggers" subtitle="Pipelines started by HTTP requests to the master, signed or with a bearer token.">
        <RefreshButton onRefresh={list.reload} />
      </PageHeader>
      <Loaded state={list}>
        {() => (
          <DataTable
            rows={rows}
            columns={columns}
            rowKey={(t) => t.name}
            className="pg-table"
            initialSort={{ id: 'name', dir: 'asc' }}
            empty={
              <>
                No triggers. <code>titan triggers create NAME --pipeline p.yaml --secret NAME</code> creates one.
              </>
            }
          />
        )}
      </Loaded>
    </div>
  );
}
